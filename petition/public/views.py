"""Pages for readers and signers."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from .. import content, signing
from ..counts import current_counts
from ..extensions import csrf
from ..signatories import page_from_args
from .forms import SignatureForm

bp = Blueprint("public", __name__)


def _language():
    return str(get_locale() or "en")


@bp.get("/")
def index():
    return render_template("index.html", letter=content.rendered("letter", _language()), counts=current_counts())


@bp.get("/background")
def background():
    return render_template("background.html", article=content.rendered("background", _language()))


# The form checks its own CSRF token, so an expired token re-shows the form with everything typed kept.
@bp.route("/sign", methods=["GET", "POST"])
@csrf.exempt
def sign():
    form = SignatureForm()
    if form.validate_on_submit():
        signing.sign(
            name=form.name.data, affiliation=form.affiliation.data, email=form.email.data,
            group=form.group.data, listed=form.listed.data,
        )
        return redirect(url_for(".thanks"))
    status = 422 if form.is_submitted() else 200
    return render_template("sign.html", form=form, counts=current_counts()), status


@bp.get("/thank-you")
def thanks():
    return render_template("thanks.html", counts=current_counts())


@bp.get("/signatories")
def signatories():
    list_filter, page = page_from_args(request.args, current_app.config["SIGNATORIES_PER_PAGE"])
    return render_template(
        "signatories.html", page=page, list_filter=list_filter, counts=current_counts(),
        first_page=request.args.get("cursor") is not None,
    )
