"""What organisers can do to signatures: hide, restore, delete, approve a flagged one, bulk hide.
Every action names its reason and goes into the audit log in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from petition.extensions import db
from petition.letter import closing
from petition.mail.signer_emails import queue_confirmation
from petition.organisers import audit
from petition.privacy.addresses import domain_hash
from petition.signatures import lifecycle
from petition.signatures.models import Signature

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from petition.organisers.models import Organiser


def _target(signature: Signature) -> str:
    return f"signature #{signature.id}"


def hide(signature: Signature, organiser: Organiser, reason: str) -> None:
    lifecycle.hide(signature)
    audit.record(organiser, "hide", _target(signature), reason)
    db.session.flush()


def restore(signature: Signature, organiser: Organiser, reason: str) -> None:
    lifecycle.restore(signature)
    audit.record(organiser, "restore", _target(signature), reason)
    db.session.flush()


def approve_flagged(signature: Signature, organiser: Organiser, reason: str) -> None:
    """A person, not a bot, after all: clear the flag and send the confirmation email it never got;
    but no new confirmation link once signing has closed (closing's rule), so then none is sent."""
    lifecycle.approve(signature)
    if closing.issues_confirmation_links():
        queue_confirmation(signature)
    audit.record(organiser, "approve", _target(signature), reason)
    db.session.flush()


def delete_signature(signature: Signature, organiser: Organiser, reason: str) -> None:
    audit.record(organiser, "delete", _target(signature), reason)
    lifecycle.delete_with_emails(signature)
    db.session.flush()


@dataclass(frozen=True)
class BulkSelection:
    """Signatures from one email domain and/or signed within a time window (UTC)."""

    domain: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Signature.hidden.is_(False)]
        if self.domain:
            # Addresses are sealed: a signature's domain is matched by its keyed hash.
            conditions.append(Signature.email_domain_hash == domain_hash(self.domain))
        if self.since:
            conditions.append(Signature.signed_at >= self.since)
        if self.until:
            conditions.append(Signature.signed_at < self.until)
        return conditions

    def describe(self) -> str:
        parts = []
        if self.domain:
            parts.append(f"domain {self.domain.lower()}")
        if self.since or self.until:
            parts.append(f"signed from {self.since or 'the start'} until {self.until or 'now'}")
        return ", ".join(parts)

    @property
    def is_empty(self) -> bool:
        return not (self.domain or self.since or self.until)


def preview_bulk_hide(selection: BulkSelection) -> int:
    """How many signatures a bulk hide would touch."""
    return db.session.execute(select(func.count()).select_from(Signature).where(*selection.conditions())).scalar_one()


def bulk_hide(selection: BulkSelection, organiser: Organiser, reason: str) -> int:
    if selection.is_empty:
        raise ValueError("A bulk hide needs a domain or a time window.")
    hidden = lifecycle.hide_where(Signature, selection.conditions())
    audit.record(organiser, "bulk-hide", f"{hidden} signatures: {selection.describe()}", reason)
    db.session.flush()
    return hidden
