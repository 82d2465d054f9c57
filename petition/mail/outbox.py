"""The outbox: emails are stored with the change that causes them and delivered by a worker.

Signing never waits on the mail server. The worker claims each email by pushing its
next_attempt_at forward in one conditional UPDATE (a lease), so two workers never send the same
email, then records it as sent; a failure schedules a retry with exponential backoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select

from petition.db.types import now_utc
from petition.extensions import db

# signer_emails queues through this module and this module has it write what it queued: each imports
# the other as a module, so either can be imported first.
from petition.mail.models import OutgoingEmail
from petition.privacy.addresses import email_hash

ERROR_MAX = 500


def email_row(
    to_address: str,
    subject: str | None,
    body: str | None,
    signature_id: int | None = None,
    template: str | None = None,
) -> dict[str, Any]:
    """An outbox row, every column given (due now, never tried). With a `template` and no text, the
    worker writes it when it sends it (signer_emails)."""
    now = now_utc()
    return {
        "to_address": to_address,
        "to_hash": email_hash(to_address) if to_address else None,
        "subject": subject,
        "body": body,
        "signature_id": signature_id,
        "template": template,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def queue_email(
    to_address: str,
    subject: str | None,
    body: str | None,
    signature_id: int | None = None,
    template: str | None = None,
) -> None:
    """Add an email to the outbox in the caller's transaction; it is sent only if that commits. One
    INSERT on the table, not an object for the session to track."""
    row = email_row(to_address, subject, body, signature_id, template)
    db.session.connection().execute(OUTBOX_INSERT, row)


def queue_row(row: dict[str, Any]) -> None:
    """Add an outbox row (email_row's values, and any other column of the table) in the caller's
    transaction."""
    db.session.connection().execute(_OUTBOX.insert(), row)


_OUTBOX = cast("Table", OutgoingEmail.__table__)


# Every column of email_row named, so the statement needs no default filled in by SQLAlchemy.
OUTBOX_INSERT = _OUTBOX.insert().values(
    {column: bindparam(column, type_=_OUTBOX.c[column].type) for column in email_row("", None, None)}
)


class Mailing(Protocol):
    """Something sent to many signatures in batches (news, a notice that the letter changed): it
    remembers the id of the last signature queued."""

    mailed_up_to: int


def queue_batch(mailing: Mailing, signatures: Sequence[Any], rows: list[dict[str, Any]]) -> int:
    """Put one batch of a mailing in the outbox (one row per signature, in id order) and remember how
    far it got; how many were queued. The caller commits."""
    if not rows:
        return 0
    db.session.execute(insert(OutgoingEmail), rows)
    mailing.mailed_up_to = signatures[-1].id
    return len(rows)


def outbox_problems(limit: int = 20) -> Sequence[OutgoingEmail]:
    """Emails that failed or are being retried, newest first, with the reason: an organiser can see
    who has not received their email and why."""
    return (
        db.session.execute(
            select(OutgoingEmail)
            .where(OutgoingEmail.sent_at.is_(None), OutgoingEmail.last_error.is_not(None))
            .order_by(OutgoingEmail.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def outbox_summary() -> dict[str, int]:
    """Counts for the organisers' dashboard: waiting, sent, failed."""
    sent, failed = OutgoingEmail.sent_at.is_not(None), OutgoingEmail.failed_at.is_not(None)
    waiting = OutgoingEmail.sent_at.is_(None) & OutgoingEmail.failed_at.is_(None)
    row = db.session.execute(
        select(func.count().filter(waiting), func.count().filter(sent), func.count().filter(failed))
    ).one()
    return {"waiting": row[0], "sent": row[1], "failed": row[2]}
