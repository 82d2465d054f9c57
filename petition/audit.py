"""The organisers' audit log: who did what, when and why. Entries are only ever added."""

from sqlalchemy import select

from .extensions import db
from .models import AuditEntry


def record(organiser, action, target, reason=""):
    """Add an entry in the caller's transaction, so the action and its record stand or fall together."""
    db.session.add(
        AuditEntry(
            organiser_id=organiser.id,
            organiser_email=organiser.email,
            action=action,
            target=target[:200],
            reason=reason[:500],
        )
    )


def latest_entries(limit=30):
    return db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).scalars().all()
