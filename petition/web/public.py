"""The public blueprint, which the readers' and signers' pages register on, and choosing a language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, redirect, request, url_for

from petition.web import locales
from petition.web.redirects import safe_local_path

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue


bp = Blueprint("public", __name__)


@bp.get("/language/" + locales.language_in_url("code"))
def set_language(code: str) -> ResponseReturnValue:
    """The switcher: remember the choice, and go to the same page in that language."""
    response = redirect(safe_local_path(request.args.get("next"), url_for(".index", lang=code)))
    response.set_cookie(
        locales.COOKIE,
        code,
        max_age=locales.COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response
