"""Queueing email: each email is an outbox row, stored in the same transaction as the change that
causes it, naming its template and what it refers to; the mail worker (worker.py) writes and sends
it later, so signing never waits on the mail server. Mailings to many (news, version notices) are
queued in batches as they are sent (queue_mailing), and the organisers' dashboard reads the
outbox's state here (outbox_summary, outbox_problems).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, func, insert, select

from petition.db.types import now_utc
from petition.extensions import db
from petition.mail.models import Mailing, OutgoingEmail
from petition.privacy.addresses import email_hash

if TYPE_CHECKING:
    from datetime import datetime

    from petition.signatures.models import Signature


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


# What each kind of mailing's emails are: their template, and the outbox column that names what they
# are about (the update, the version), which the outbox's unique indexes keep to one per signer.
MAILING_EMAILS = {"update": ("update", "update_id"), "version": ("letter_changed", "version_notice")}


def refers_to(mailing: Mailing) -> tuple[str, str, int]:
    """A mailing's template, the outbox column naming its subject, and the subject's id there."""
    template, column = MAILING_EMAILS[mailing.kind]
    subject = mailing.update_id if mailing.kind == "update" else mailing.version_number
    assert subject is not None  # the table's CHECK says so
    return template, column, subject


def queue_mailing(
    mailing: Mailing, signers: Sequence[Signature], now: datetime | None = None, per_minute: int | None = None
) -> int:
    """Put the next batch of a mailing in the outbox, one row per signer (in id order): each names its
    template and what it is about, and carries no text: the worker writes it when it sends it (the
    writer its feature registered: mailings.write_waiting). With `per_minute`, the rows are due one
    after another at that rate, after whatever of this mailing still waits. Moves the mailing's
    mailed_up_to past the last signer; how many were queued. The caller commits."""
    if not signers:
        return 0
    now = now or now_utc()
    template, column, subject = refers_to(mailing)
    start, rate = now, per_minute or 0
    if rate:
        waiting = db.session.execute(
            select(func.count()).where(_OUTBOX.c[column] == subject, _OUTBOX.c.sent_at.is_(None))
        ).scalar_one()
        start = now + timedelta(minutes=waiting / rate)
    rows = []
    for i, signer in enumerate(signers):
        if signer.email is None:  # erased: nobody to write to
            continue
        row = email_row(signer.email, None, None, signer.id, template)
        rows.append({**row, column: subject, "next_attempt_at": start + timedelta(minutes=i / rate) if rate else now})
    if rows:
        db.session.execute(insert(OutgoingEmail), rows)
    mailing.mailed_up_to = signers[-1].id
    db.session.flush()
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
