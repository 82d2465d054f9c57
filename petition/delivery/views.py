"""The delivery copy from the dashboard: asked for, followed while it is made, downloaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import (
    Response,
    abort,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from petition.db.transactions import writes
from petition.delivery import jobs as delivery_jobs
from petition.delivery import layout
from petition.delivery.copy import delivery_copy
from petition.delivery.forms import DeliveryForm
from petition.organisers import audit
from petition.organisers.roles import requires
from petition.organisers.views import bp
from petition.web.locales import SUPPORTED

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue


def _delivery_language() -> str:
    language = request.args.get("language", "en")
    return language if language in ("en", "zh") else "en"


@bp.get("/delivery")
@requires("delivery")
def delivery_html() -> ResponseReturnValue:
    """The delivery copy as a page to print from the browser."""
    copy = delivery_copy(_delivery_language())
    return layout.render_html(copy)


@bp.post("/delivery/<language>")
@requires("delivery")
def request_delivery(language: str) -> ResponseReturnValue:
    """Ask the worker for a delivery copy; answers at once (the dashboard shows the progress)."""
    if language not in SUPPORTED:
        abort(404)
    if DeliveryForm().validate_on_submit():
        _, new = delivery_jobs.request_copy(language, current_user.email)
        if new:
            audit.record(current_user, "delivery-request", f"delivery copy ({language})")
        flash(_l("The copy is being made. Reload the dashboard to see how far it got."), "success")
    return redirect(url_for(".dashboard", _anchor="delivery"))


@bp.get("/delivery/copies/<id:file_id>.pdf")
@requires("delivery")
@writes  # every download goes into the audit log
def delivery_pdf(file_id: int) -> ResponseReturnValue:
    """A copy the worker made, as kept; every download is in the audit log."""
    kept = delivery_jobs.file_pdf(file_id)
    if kept is None:
        flash(_l("That copy has been replaced by a newer one."), "info")
        return redirect(url_for(".dashboard", _anchor="delivery"))
    made, pdf = kept
    audit.record(
        current_user, "delivery-download", f"delivery copy #{made.id} ({made.language}, list {made.list_sha256[:16]})"
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{delivery_jobs.file_name(made)}"'},
    )
