"""Organisers' login (a password, then a code from the second factor), enrolling a second factor,
the account page and logging out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from petition.extensions import db, limiter
from petition.organisers import accounts, audit, second_factor
from petition.organisers.forms import CodeForm, EnrolmentCodeForm, LoginForm, LogoutForm, PasswordChangeForm
from petition.organisers.models import Organiser
from petition.organisers.views import bp
from petition.signatures import abuse
from petition.web.redirects import safe_local_path

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

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
