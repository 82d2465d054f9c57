"""JSON for anyone: counts and the public list. Never an email address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, jsonify, request

from petition.signatories.counts import current_counts
from petition.signatories.public_list import page_from_args
from petition.signatures import abuse
from petition.web.headers import list_exposure
from petition.web.page_cache import cached_page

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from petition.signatures.models import Signature

bp = Blueprint("api", __name__)


def signatory_json(signature: Signature) -> dict[str, str]:
    return {
        "name": signature.name,
        "affiliation": signature.affiliation,
        "group": signature.group,
        # The day, never the time of day: times would let a reader line signers up with other traces.
        "signed_on": signature.signed_at.date().isoformat(),
    }


# Counts may be a couple of seconds old; a cache may serve them while it fetches fresh ones.
COUNTS_CACHE_CONTROL = "public, max-age=2, stale-while-revalidate=30"


@bp.get("/counts")
def counts() -> ResponseReturnValue:
    # The same one-second memory as the home page, so watchers reloading cost no query.
    response = jsonify(cached_page(("counts",), lambda: current_counts().as_json()))
    response.headers["Cache-Control"] = COUNTS_CACHE_CONTROL
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/signatories")
@abuse.list_limit()
@list_exposure
def signatories() -> ResponseReturnValue:
    _, page = page_from_args(request.args, current_app.config["SIGNATORIES_PER_PAGE"])
    return jsonify(signatories=[signatory_json(s) for s in page.signatories], next=page.next_cursor)
