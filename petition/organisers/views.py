"""Pages for organisers. Every route but the login page requires a logged-in organiser."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from .. import abuse, accounts, audit, delivery, exports, moderation, news
from ..counts import current_counts
from ..extensions import csrf, db, limiter, login_manager
from ..headers import keep_private
from ..models import Signature, Update
from ..outbox import outbox_problems, outbox_summary
from ..redirects import safe_local_path
from .dashboard import REVIEW_FILTERS, latest_signatures, review_counts, review_hints
from .forms import BulkHideForm, LoginForm, LogoutForm, ModerationForm, UpdateForm

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

bp = Blueprint("organisers", __name__)
OPEN_ENDPOINTS = {"organisers.login"}
# Every POST here goes through a FlaskForm, which checks its own CSRF token. Leaving the global
# check out lets the login requirement answer first, so an anonymous visitor is always sent to log
# in rather than told about tokens.
csrf.exempt(bp)
# Every organiser page shows email addresses or signatures under review.
bp.after_request(keep_private)
bp.context_processor(review_hints)


@bp.before_request
def require_organiser() -> ResponseReturnValue | None:
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        organiser = accounts.attempt_login(form.email.data, form.password.data, abuse.ip_hash(request.remote_addr))
        if organiser:
            session.clear()  # a fresh session: nothing from before the login carries over
            accounts.start_session(organiser)
            login_user(organiser)
            # Only a path on this site, so the login form cannot bounce an organiser elsewhere.
            return redirect(safe_local_path(request.args.get("next"), url_for(".dashboard")))
        # One message for a wrong password, an unknown address and a locked account alike.
        error = _l(
            "That email address and password do not match an organiser account, or there have been too many attempts. Check them, or wait 15 minutes and try again."  # noqa: E501 (one message for the catalogue)
        )
    status = 422 if form.is_submitted() else 200
    return render_template("organisers/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        accounts.end_session()
        logout_user()
        session.clear()
    return redirect(url_for("public.index"))


@bp.get("/")
def dashboard() -> str:
    review = request.args.get("review", "all")
    if review not in REVIEW_FILTERS:
        review = "all"
    return render_template(
        "organisers/dashboard.html",
        counts=current_counts(),
        review_counts=review_counts(),
        outbox=outbox_summary(),
        outbox_problems=outbox_problems(),
        signatures=latest_signatures(review),
        review=review,
        audit_entries=audit.latest_entries(),
        logout_form=LogoutForm(),
    )


def _signature_or_404(signature_id: int) -> Signature:
    return db.session.get(Signature, signature_id) or abort(404)


@bp.get("/signatures/<id:signature_id>")
def signature_detail(signature_id: int) -> str:
    signature = _signature_or_404(signature_id)
    return render_template("organisers/signature.html", signature=signature, form=ModerationForm())


ACTIONS = {
    "hide": (moderation.hide, _l("Hidden from the list and the counts.")),
    "restore": (moderation.restore, _l("Restored to the list and the counts.")),
    "approve": (moderation.approve_flagged, _l("Approved; the confirmation email is on its way.")),
    "delete": (moderation.delete_signature, _l("Deleted.")),
}


@bp.post("/signatures/<id:signature_id>/<action>")
def moderate(signature_id: int, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    signature = _signature_or_404(signature_id)
    form = ModerationForm()
    if not form.validate_on_submit():
        # The error goes under the box that was pressed, not under every box with a reason field.
        page = render_template("organisers/signature.html", signature=signature, form=form, pressed=action)
        return page, 422
    if action == "delete" and request.form.get("confirm") != "yes":
        # Deleting cannot be undone: one more page says so, with the reason carried over.
        return render_template("organisers/confirm_delete.html", signature=signature, form=form)
    do, message = ACTIONS[action]
    do(signature, current_user, form.reason.data)
    flash(message, "success")
    return redirect(
        url_for(".dashboard") if action == "delete" else url_for(".signature_detail", signature_id=signature_id)
    )


@bp.route("/bulk-hide", methods=["GET", "POST"])
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


@bp.route("/updates", methods=["GET", "POST"])
def updates() -> ResponseReturnValue:
    """Publish news about the letter; see and correct what was published."""
    form = UpdateForm()
    if request.method == "GET":
        form.published_on.data = datetime.now(UTC).date()
    if form.validate_on_submit():
        news.publish(
            current_user,
            published_on=form.published_on.data,
            titles=form.titles(),
            bodies=form.bodies(),
            email=form.email.data,
        )
        flash(_l("Published.") if not form.email.data else _l("Published; the emails are on their way."), "success")
        return redirect(url_for(".updates"))
    page = render_template("organisers/updates.html", form=form, updates=news.all_updates(), withdraw=ModerationForm())
    return page, 422 if form.errors else 200


def _update_or_404(update_id: int) -> Update:
    return db.session.get(Update, update_id) or abort(404)


@bp.route("/updates/<id:update_id>", methods=["GET", "POST"])
def edit_update(update_id: int) -> ResponseReturnValue:
    update = _update_or_404(update_id)
    form = UpdateForm(obj=update)
    del form.email  # an update is emailed when it is published, never again
    if form.validate_on_submit():
        news.edit(update, current_user, published_on=form.published_on.data, titles=form.titles(), bodies=form.bodies())
        flash(_l("Saved."), "success")
        return redirect(url_for(".updates"))
    return render_template("organisers/edit_update.html", form=form, update=update), 422 if form.errors else 200


@bp.post("/updates/<id:update_id>/withdraw")
def withdraw_update(update_id: int) -> ResponseReturnValue:
    update = _update_or_404(update_id)
    form = ModerationForm()
    if not form.validate_on_submit():
        flash(_l("Give a reason; it goes into the audit log."), "error")
        return redirect(url_for(".updates"))
    news.withdraw(update, current_user, form.reason.data)
    flash(_l("Withdrawn from the site and the feeds."), "success")
    return redirect(url_for(".updates"))


def _delivery_language() -> str:
    language = request.args.get("language", "en")
    return language if language in ("en", "zh") else "en"


@bp.get("/delivery")
def delivery_html() -> ResponseReturnValue:
    """The delivery copy as a page to print from the browser."""
    copy = delivery.delivery_copy(_delivery_language())
    return delivery.render_html(copy)


@bp.get("/delivery.pdf")
def delivery_pdf() -> ResponseReturnValue:
    language = _delivery_language()
    audit.record(current_user, "delivery", f"delivery copy ({language})")
    copy = delivery.delivery_copy(language)
    out = io.BytesIO()
    delivery.write_pdf(copy, out)
    filename = f"open-letter-delivery-{language}-{copy.made_at:%Y-%m-%d}.pdf"
    return Response(
        out.getvalue(),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/export.csv")
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
