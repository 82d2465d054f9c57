"""JSON for anyone: counts and the public list. Never an email address."""
from flask import Blueprint, current_app, jsonify, request

from ..counts import current_counts
from ..signatories import page_from_args

bp = Blueprint("api", __name__)


def signatory_json(signature):
    return {
        "name": signature.name,
        "affiliation": signature.affiliation,
        "group": signature.group,
        "signed_at": signature.signed_at.isoformat(timespec="seconds"),
    }


@bp.get("/counts")
def counts():
    response = jsonify(current_counts().as_json())
    response.headers["Cache-Control"] = "public, max-age=5"
    return response


@bp.get("/signatories")
def signatories():
    _, page = page_from_args(request.args, current_app.config["SIGNATORIES_PER_PAGE"])
    return jsonify(signatories=[signatory_json(s) for s in page.signatories], next=page.next_cursor)
