"""Pages for organisers. Every route but the login page requires a logged-in organiser."""

from __future__ import annotations

from dataclasses import replace
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
    session,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from .. import (
    abuse,
    accounts,
    audit,
    closing,
    delivery,
    delivery_jobs,
    exports,
    listing,
    moderation,
    news,
    second_factor,
)
from ..counts import current_counts
from ..database import writes
from ..extensions import csrf, db, limiter, login_manager
from ..headers import keep_private
from ..locales import SUPPORTED
from ..models import Organiser, Signature, Update
from ..outbox import outbox_problems, outbox_summary
from ..redirects import safe_local_path
from ..roles import current_may, requires
from . import search
from .dashboard import possible_duplicates, review_counts, review_hints
from .forms import (
    ApprovalForm,
    BulkHideForm,
    CodeForm,
    DeliveryForm,
    EnrolmentCodeForm,
    LoginForm,
    LogoutForm,
    ModerationForm,
    PasswordChangeForm,
    UpdateForm,
)

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


# A password accepted, a code still to come: how long the half-made login waits.
PENDING_LOGIN = "pending_login"
PENDING_SECONDS = 600


def _begin_second_step(organiser: Organiser) -> ResponseReturnValue:
    session.clear()  # a fresh session: nothing from before the login carries over
    session[PENDING_LOGIN] = {
        "id": organiser.id,
        "at": accounts.clock().timestamp(),
        "next": safe_local_path(request.args.get("next"), url_for(".dashboard")),
        "token": accounts.start_pending_login(organiser),
    }
    return redirect(url_for(".login_code" if organiser.has_second_factor else ".enrol"))


def _pending_organiser() -> Organiser | None:
    """The organiser whose password was accepted a moment ago in this browser, if any."""
    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict) or accounts.clock().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    organiser = db.session.get(Organiser, pending.get("id"))
    if organiser is None or not organiser.is_active:
        return None
    # Ended, with the account's sessions, by a new password or logging out everywhere meanwhile.
    token = pending.get("token")
    return organiser if isinstance(token, str) and accounts.pending_login_is_live(organiser, token) else None


def _complete_login(organiser: Organiser) -> str:
    """Log the organiser in; where they were going."""
    pending = session.get(PENDING_LOGIN)
    target = pending.get("next") if isinstance(pending, dict) else None
    if isinstance(pending, dict) and isinstance(pending.get("token"), str):
        accounts.end_pending_login(pending["token"])
    session.clear()  # a fresh session: nothing from before the login carries over
    accounts.start_session(organiser)
    login_user(organiser)
    # Only a path on this site, so the login form cannot bounce an organiser elsewhere.
    return safe_local_path(target or request.args.get("next"), url_for(".dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        organiser = accounts.attempt_login(form.email.data, form.password.data, abuse.ip_hash(request.remote_addr))
        if organiser:
            if organiser.has_second_factor or current_app.config["REQUIRE_2FA"]:
                return _begin_second_step(organiser)
            return redirect(_complete_login(organiser))
        # One message for a wrong password, an unknown address and a locked account alike.
        error = _l(
            "That email address and password do not match an organiser account, or there have been too many attempts. Check them, or wait 15 minutes and try again."  # noqa: E501 (one message for the catalogue)
        )
    status = 422 if form.is_submitted() else 200
    return render_template("organisers/login.html", form=form, error=error), status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def login_code() -> ResponseReturnValue:
    """The second step: a code from the authenticator app, or a recovery code."""
    organiser = _pending_organiser()
    if organiser is None or not organiser.has_second_factor:
        flash(_l("Please log in again: the login was not finished in time."), "info")
        return redirect(url_for(".login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        ip_hash = abuse.ip_hash(request.remote_addr)
        if second_factor.check_code(organiser, form.code.data, ip_hash, accounts.clock()):
            return redirect(_complete_login(organiser))
        error = _l(
            "That code is not right, has been used already, or there have been too many attempts. Enter the code your app shows now, or wait 15 minutes."  # noqa: E501 (one message for the catalogue)
        )
    status = 422 if form.is_submitted() else 200
    return render_template("organisers/login_code.html", form=form, error=error), status


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def enrol() -> ResponseReturnValue:
    """Set up two-factor sign-in: scan the QR code (or type the secret), confirm one code, and keep
    the recovery codes shown once. At first login when it is required, or from the account page."""
    logged_in = current_user.is_authenticated
    organiser = current_user if logged_in else _pending_organiser()
    if organiser is None:
        return redirect(url_for(".login"))
    if organiser.has_second_factor:
        return redirect(url_for(".account"))
    secret = _enrolment_secret(organiser)
    form = EnrolmentCodeForm()
    error = None
    if form.validate_on_submit():
        codes = second_factor.confirm_enrolment(
            organiser, secret, form.code.data, abuse.ip_hash(request.remote_addr), accounts.clock()
        )
        if codes:
            session.pop(ENROLMENT, None)
            audit.record(organiser, "enrol-2fa", f"organiser {organiser.email}")
            target = url_for(".account") if logged_in else _complete_login(organiser)
            return render_template("organisers/recovery_codes.html", codes=codes, target=target)
        if organiser.has_second_factor:  # another enrolment of the account was confirmed meanwhile
            return redirect(url_for(".account") if logged_in else url_for(".login_code"))
        error = _l(
            "That code is not right. Check that the app shows this site's entry, and enter the code it shows now."
        )
    page = render_template(
        "organisers/enrol.html", form=form, error=error, secret=secret, qr=second_factor.qr_svg(organiser, secret)
    )
    return page, 422 if form.is_submitted() else 200


# The secret this browser is enrolling with: its own, kept until a code confirms it or the session ends.
ENROLMENT = "enrolment"


def _enrolment_secret(organiser: Organiser) -> str:
    kept = session.get(ENROLMENT)
    if isinstance(kept, dict) and kept.get("id") == organiser.id and isinstance(kept.get("secret"), str):
        return kept["secret"]
    secret = second_factor.new_secret()
    session[ENROLMENT] = {"id": organiser.id, "secret": secret}
    return secret


@bp.get("/account")
def account() -> str:
    return render_template("organisers/account.html", form=PasswordChangeForm(), logout_form=LogoutForm())


@bp.post("/account/password")
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        ip_hash = abuse.ip_hash(request.remote_addr)
        try:
            if accounts.change_own_password(current_user, form.current.data, form.new.data, ip_hash):
                flash(_l("Your password is changed. Every other session of your account has ended."), "success")
                return redirect(url_for(".account"))
            form.current.errors = [_l("That is not your current password.")]
        except accounts.TooManyAttempts:
            minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
            form.current.errors = [
                _l(
                    "There have been too many attempts with a wrong password. Wait %(minutes)s minutes and try again.",
                    minutes=minutes,
                )
            ]
    return render_template("organisers/account.html", form=form, logout_form=LogoutForm()), 422


@bp.post("/account/logout-everywhere")
def logout_everywhere() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        accounts.log_out_everywhere(current_user)
        logout_user()
        session.clear()
        flash(_l("You are logged out on every device."), "success")
    return redirect(url_for(".login"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        accounts.end_session()
        logout_user()
        session.clear()
    return redirect(url_for("public.index"))


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


@bp.route("/updates", methods=["GET", "POST"])
@requires("updates")
def updates() -> ResponseReturnValue:
    """Publish news about the letter; see and correct what was published."""
    form = UpdateForm()
    if request.method == "GET":
        form.published_on.data = datetime.now(UTC).date()
    preview = None
    if form.validate_on_submit():
        if request.form.get("preview"):
            # Shown above the form as typed; nothing is saved until Publish.
            preview = [
                replace(shown, page=_news_as_on_the_page(shown))
                for shown in news.preview(
                    published_on=form.published_on.data, titles=form.titles(), bodies=form.bodies()
                )
            ]
        else:
            news.publish(
                current_user,
                published_on=form.published_on.data,
                titles=form.titles(),
                bodies=form.bodies(),
                email=form.email.data,
            )
            flash(_l("Published.") if not form.email.data else _l("Published; the emails are on their way."), "success")
            return redirect(url_for(".updates"))
    page = render_template(
        "organisers/updates.html", form=form, updates=news.all_updates(), withdraw=ModerationForm(), preview=preview
    )
    return page, 422 if form.errors else 200


def _news_as_on_the_page(shown: news.Preview) -> Markup:
    """The news as the letter's page in that language shows it (the same macro renders both)."""
    with force_locale(shown.language):
        return Markup(render_template("organisers/_news_preview.html", update=shown.update, language=shown.language))


def _update_or_404(update_id: int) -> Update:
    return db.session.get(Update, update_id) or abort(404)


@bp.route("/updates/<id:update_id>", methods=["GET", "POST"])
@requires("updates")
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
@requires("updates")
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
@requires("delivery")
def delivery_html() -> ResponseReturnValue:
    """The delivery copy as a page to print from the browser."""
    copy = delivery.delivery_copy(_delivery_language())
    return delivery.render_html(copy)


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
