"""Pages for organisers. Every route but the login page requires a logged-in organiser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from petition.db.transactions import writes
from petition.delivery import jobs as delivery_jobs
from petition.extensions import csrf, db, login_manager
from petition.letter import closing
from petition.mail.outbox import outbox_problems, outbox_summary
from petition.organisers import audit, search
from petition.organisers.dashboard import possible_duplicates, review_counts, review_hints
from petition.organisers.forms import ApprovalForm, BulkHideForm, LogoutForm, ModerationForm
from petition.organisers.roles import current_may, requires
from petition.signatories.counts import current_counts
from petition.signatures import exports, listing, moderation
from petition.signatures.models import Signature
from petition.web.headers import keep_private
from petition.web.redirects import safe_local_path

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue


bp = Blueprint("organisers", __name__)


# The login's steps: a password, then a code (or, the first time, enrolling an authenticator app).
OPEN_ENDPOINTS = {"organisers.login", "organisers.login_code", "organisers.enrol"}


# Pages an organiser who must still enrol a second factor may use.
BEFORE_ENROLMENT = {"organisers.enrol", "organisers.logout"}


# Every POST here goes through a FlaskForm, which checks its own CSRF token. Leaving the global
# check out lets the login requirement answer first, so an anonymous visitor is always sent to log
# in rather than told about tokens.
csrf.exempt(bp)


# Every organiser page shows email addresses or signatures under review.
bp.after_request(keep_private)


bp.context_processor(review_hints)


bp.context_processor(lambda: {"may": current_may})


@bp.before_request
def require_organiser() -> ResponseReturnValue | None:
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        if g.get("session_expired"):
            flash(_l("You were logged out after a while without activity. Please log in again."), "info")
        return login_manager.unauthorized()
    if (
        current_app.config["REQUIRE_2FA"]
        and current_user.is_authenticated
        and not current_user.has_second_factor
        and request.endpoint not in BEFORE_ENROLMENT
    ):
        return redirect(url_for(".enrol"))
    return None


@bp.get("/")
def dashboard() -> str:
    """The counts, the mail that failed, any signature (searched, filtered, a page at a time, see
    search.py), and the audit log."""
    asked = search.read_request(request.args, may_see_emails=current_may("see-emails"))
    tabs = review_counts()
    page = search.find(asked, tabs)
    return render_template(
        "organisers/dashboard.html",
        counts=current_counts(),
        review_counts=tabs,
        outbox=outbox_summary(),
        outbox_problems=outbox_problems(),
        signatures=page.signatures,
        duplicates=possible_duplicates(page.signatures),
        review=asked.filters.review,
        filters=asked.filters,
        problems=asked.problems,
        page=page,
        audit_entries=audit.latest_entries(),
        logout_form=LogoutForm(),
        delivery=delivery_jobs.statuses() if current_may("delivery") else [],
    )


def _signature_or_404(signature_id: int) -> Signature:
    return db.session.get(Signature, signature_id) or abort(404)


@bp.get("/signatures/<id:signature_id>")
def signature_detail(signature_id: int) -> str:
    signature = _signature_or_404(signature_id)
    return render_template(
        "organisers/signature.html",
        signature=signature,
        form=ModerationForm(),
        duplicates=possible_duplicates([signature]).get(signature.id, []),
    )


# Each action: what it does, what the organiser is told, and the permission it needs.
ACTIONS = {
    "hide": (moderation.hide, _l("Hidden from the list and the counts."), "moderate"),
    "restore": (moderation.restore, _l("Restored to the list and the counts."), "moderate"),
    "approve": (moderation.approve_flagged, _l("Approved; the confirmation email is on its way."), "moderate"),
    "delete": (moderation.delete_signature, _l("Deleted."), "delete"),
    "approve-listing": (listing.approve, _l("Approved: the name is on the public list."), "review-listing"),
    "decline-listing": (
        listing.decline,
        _l("Declined: still counted, not listed. The signer has been told by email."),
        "review-listing",
    ),
}


APPROVED_AFTER_CLOSING = _l(
    "Approved. Signing has closed, so no confirmation email was sent: this signature cannot be confirmed now."
)


# Approving a listing needs no reason; everything else does.
FORMS = {"approve-listing": ApprovalForm}


@bp.post("/signatures/<id:signature_id>/<action>")
def moderate(signature_id: int, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    do, message, permission = ACTIONS[action]
    if not current_may(permission):
        abort(403)
    signature = _signature_or_404(signature_id)
    form = FORMS.get(action, ModerationForm)()
    if not form.validate_on_submit():
        # The error goes under the box that was pressed, not under every box with a reason field.
        page = render_template("organisers/signature.html", signature=signature, form=form, pressed=action)
        return page, 422
    if action == "delete" and request.form.get("confirm") != "yes":
        # Deleting cannot be undone: one more page says so, with the reason carried over.
        return render_template("organisers/confirm_delete.html", signature=signature, form=form)
    do(signature, current_user, form.reason.data or "")
    if action == "approve" and not closing.issues_confirmation_links():
        message = APPROVED_AFTER_CLOSING
    flash(message, "success")
    if action == "delete":
        return redirect(url_for(".dashboard"))
    # From the review tab, back to the tab for the next name.
    return redirect(safe_local_path(request.form.get("back"), url_for(".signature_detail", signature_id=signature_id)))


@bp.route("/bulk-hide", methods=["GET", "POST"])
@requires("bulk-hide")
def bulk_hide() -> ResponseReturnValue:
    form = BulkHideForm()
    preview = None
    if form.validate_on_submit():
        selection = moderation.BulkSelection(
            domain=form.domain.data or "", since=_utc(form.since.data), until=_utc(form.until.data)
        )
        if request.form.get("confirm") == "yes":
            hidden = moderation.bulk_hide(selection, current_user, form.reason.data)
            flash(_l("%(n)s signatures hidden.", n=hidden), "success")
            return redirect(url_for(".dashboard"))
        preview = moderation.preview_bulk_hide(selection)
    return render_template("organisers/bulk_hide.html", form=form, preview=preview), 422 if form.errors else 200


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value else None


@bp.get("/export.csv")
@requires("export")
@writes  # every export goes into the audit log
def export_csv() -> ResponseReturnValue:
    everything = request.args.get("scope") == "all"
    # Recorded by the request's commit, which comes before the file streams in a read-only transaction.
    audit.record(current_user, "export", "all signatures" if everything else "confirmed signatures")
    filename = f"signatures-{'all' if everything else 'confirmed'}-{datetime.now(UTC):%Y-%m-%d}.csv"
    return Response(
        stream_with_context(exports.csv_chunks(everything=everything)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
