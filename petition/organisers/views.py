"""Pages for organisers. Every route but the login page requires a logged-in organiser."""
from datetime import datetime, timezone

from flask import Blueprint, Response, redirect, render_template, request, stream_with_context, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from .. import accounts, exports
from ..counts import current_counts
from ..extensions import csrf, login_manager
from .forms import LoginForm, LogoutForm
from .dashboard import latest_signatures

bp = Blueprint("organisers", __name__)
OPEN_ENDPOINTS = {"organisers.login"}


@bp.before_request
def require_organiser():
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()


def _safe_next(target):
    """Only a path on this site, so the login form cannot bounce an organiser elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for(".dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        organiser = accounts.authenticate(form.email.data, form.password.data)
        if organiser:
            login_user(organiser)
            return redirect(_safe_next(request.args.get("next")))
        error = _l("That email address and password do not match an organiser account.")
    status = 422 if form.is_submitted() else 200
    return render_template("organisers/login.html", form=form, error=error), status


# Exempt from the global check so an anonymous visitor is sent to the login page like everywhere
# else here; the form still checks its own token before logging anyone out.
@bp.post("/logout")
@csrf.exempt
def logout():
    if LogoutForm().validate_on_submit():
        logout_user()
    return redirect(url_for("public.index"))


@bp.get("/")
def dashboard():
    return render_template(
        "organisers/dashboard.html", counts=current_counts(), signatures=latest_signatures(),
        logout_form=LogoutForm(),
    )


@bp.get("/export.csv")
def export_csv():
    filename = f"signatures-{datetime.now(timezone.utc):%Y-%m-%d}.csv"
    return Response(
        stream_with_context(exports.csv_chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
