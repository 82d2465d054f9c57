"""News for readers: the Atom feed, and leaving the news emails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Response, render_template, request, url_for

from petition.extensions import csrf
from petition.news import publishing as news
from petition.reach.locations import building_mirror
from petition.signatures.models import Signature
from petition.signatures.tokens import UNSUBSCRIBE
from petition.signatures.views import _language, signature_from_link
from petition.web.headers import private_page
from petition.web.links import here_link, site_link
from petition.web.locales import localized_route
from petition.web.public import bp

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue


@localized_route(bp, "/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" with no cookie and no token
@private_page
@signature_from_link(UNSUBSCRIBE)
def unsubscribe(signature: Signature, token: str) -> ResponseReturnValue:
    """Opening the link shows a button; pressing it, or a mail program's one-click POST, stops the
    news. Doing it twice is harmless; the signature itself is untouched."""
    if request.method == "POST":
        news.unsubscribe(signature)
        return render_template("unsubscribed.html")
    return render_template("unsubscribe.html", subscribed=signature.wants_updates)


@localized_route(bp, "/updates.atom")
def updates_feed() -> ResponseReturnValue:
    """The news as an Atom feed, in this address's language. Its links lead within the address it was
    read at (a copy's are relative); its ids are SITE_URL's, the same wherever it is read."""
    language = _language()
    changed = news.last_change()
    link = url_for if building_mirror() else here_link
    xml = render_template(
        "updates.atom.xml",
        updates=news.published_updates(),
        updated=changed or FEED_EPOCH,
        language=language,
        letter_id=site_link("public.index", lang=language),
        feed_id=site_link("public.updates_feed", lang=language),
        letter_url=link("public.index", lang=language),
        feed_url=link("public.updates_feed", lang=language),
    )
    # Feed readers poll: one that has this version gets 304 and no body (ETag and Last-Modified).
    response = Response(xml, mimetype="application/atom+xml")
    response.last_modified = changed or FEED_EPOCH
    response.add_etag()
    return response.make_conditional(request)


FEED_EPOCH = datetime(2012, 1, 1, tzinfo=UTC)  # the feeds' date before any news: the year of the events
