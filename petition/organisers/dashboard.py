"""What the organisers' dashboard shows."""

from flask import current_app
from sqlalchemy import and_, func, select

from ..abuse import is_fast
from ..extensions import db
from ..institutions import institutional_hint
from ..lifecycle import Review
from ..models import Signature

# Which signatures a dashboard tab lists.
REVIEW_FILTERS = {
    "all": (),
    "pending": (Signature.review_status == Review.PENDING.value,),
    "counted": (Signature.counted,),
    "hidden": (Signature.review_status == Review.HIDDEN.value,),
    "flagged": (Signature.review_status == Review.FLAGGED.value,),
}


def latest_signatures(review="all", limit=None):
    limit = limit or current_app.config["DASHBOARD_LATEST"]
    signatures = (
        db.session.execute(select(Signature).where(*REVIEW_FILTERS[review]).order_by(Signature.id.desc()).limit(limit))
        .scalars()
        .all()
    )
    for signature in signatures:
        signature.institution_hint = institutional_hint(signature.email, signature.affiliation)
        signature.fast = is_fast(signature.fill_seconds)
    return signatures


def review_counts():
    """How many signatures are in each tab, in one pass over the table."""
    columns = [
        func.count().filter(and_(*conditions)) if conditions else func.count() for conditions in REVIEW_FILTERS.values()
    ]
    row = db.session.execute(select(*columns).select_from(Signature)).one()
    return dict(zip(REVIEW_FILTERS, row, strict=True))
