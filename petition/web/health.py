"""/healthz: for load balancers and monitoring. Healthy means the database answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from petition.extensions import db

if TYPE_CHECKING:
    from flask import Response

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:  # the request's boundary rolls back a 503
        response = jsonify(status="unavailable", database="unreachable")
        response.status_code = 503
    else:
        response = jsonify(status="ok", database="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
