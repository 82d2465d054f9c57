"""The public list of signatories and the chart of how the letter grew."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template, request

from petition.signatories import growth
from petition.signatories.counts import current_counts
from petition.signatories.public_list import page_from_args
from petition.signatures import abuse, listing
from petition.signatures.views import _language
from petition.web.headers import list_exposure
from petition.web.locales import localized_route
from petition.web.page_cache import cached_page
from petition.web.public import bp


@localized_route(bp, "/signatories/growth")
def growth_chart() -> str:
    """Signatures over time, per group: an SVG drawn here, and the same figures as a table."""

    def render() -> str:
        data = growth.growth(today=datetime.now(UTC).date())
        return render_template("growth.html", data=data, chart=growth.chart(data), counts=current_counts())

    seconds = current_app.config["GROWTH_CACHE_SECONDS"]
    return cached_page(("growth", _language(), request.path), render, seconds=seconds)


@localized_route(bp, "/signatories", query=("group", "q", "cursor"))
@abuse.list_limit()
@list_exposure
def signatories() -> str:
    list_filter, page = page_from_args(request.args, current_app.config["SIGNATORIES_PER_PAGE"])
    return render_template(
        "signatories.html",
        page=page,
        list_filter=list_filter,
        counts=current_counts(),
        awaiting=listing.awaiting_per_group(),
        first_page=request.args.get("cursor") is not None,
    )
