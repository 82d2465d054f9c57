"""The letter's pages: the letter, the background article, its versions, the privacy notice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, render_template, request

from petition.letter import content, versions
from petition.news import publishing as news
from petition.reach import sharing
from petition.signatories.counts import current_counts
from petition.signatures.views import _language
from petition.web.locales import localized_route
from petition.web.page_cache import cached_page
from petition.web.public import bp

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue


@localized_route(bp, "/")
def index() -> str:
    language = _language()
    return cached_page(
        ("index", language, request.path),
        lambda: render_template(
            "index.html",
            letter=content.split_title(content.markdown(versions.letter_text(language))),
            version=versions.current(),
            counts=current_counts(),
            updates=news.published_updates(),
        ),
    )


@localized_route(bp, "/background")
def background() -> str:
    return render_template("background.html", article=content.rendered("background", _language()))


@localized_route(bp, "/privacy")
def privacy() -> str:
    return render_template("privacy.html", page=content.rendered("privacy", _language()))


@localized_route(bp, "/letter/versions")
def letter_versions() -> str:
    """Every published text of the letter, newest first, with what changed from the one before."""
    language = _language()
    published = list(versions.all_versions())
    history = [
        (version, versions.changes(version, published[i + 1] if i + 1 < len(published) else None, language))
        for i, version in enumerate(published)
    ]
    return render_template("versions.html", history=history, language=language, version_reason=versions.reason)


@bp.get("/share/qr-<any(en,zh):language>.svg")
def letter_qr(language: str) -> ResponseReturnValue:
    """The letter's address in `language` as a QR code, for WeChat (made here: nothing from elsewhere)."""
    response = Response(sharing.qr_svg(sharing.letter_url(language)), mimetype="image/svg+xml")
    response.cache_control.public, response.cache_control.max_age = True, 24 * 3600
    return response
