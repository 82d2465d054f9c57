"""What the organisers' dashboard shows."""
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Signature


def latest_signatures(limit=None):
    limit = limit or current_app.config["DASHBOARD_LATEST"]
    return db.session.execute(select(Signature).order_by(Signature.id.desc()).limit(limit)).scalars().all()
