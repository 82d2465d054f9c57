"""The organisers' audit log: who did what, when and why. Entries are only ever added."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from petition.extensions import db
from petition.organisers.models import AuditEntry

if TYPE_CHECKING:
    from petition.organisers.models import Organiser


def record(organiser: Organiser, action: str, target: str, reason: str = "") -> None:
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


def latest_entries(limit: int = 30) -> Sequence[AuditEntry]:
    return db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).scalars().all()
