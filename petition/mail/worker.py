"""The mail worker: it claims due emails from the outbox with a lease (so two workers never send the
same email), writes each just before sending it (mailings.write_waiting), hands them to the mail
server, and retries failures with exponential backoff. Between batches it runs the other steps
registered with it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select, update

from petition.db.transactions import reading_only
from petition.db.types import now_utc
from petition.extensions import db

# signer_emails queues through this module and this module has it write what it queued: each imports
# the other as a module, so either can be imported first.
from petition.mail import mailings, signer_emails
from petition.mail.mailer import PermanentFailure, TemporaryFailure, build_message, open_transport
from petition.mail.models import OutgoingEmail
from petition.mail.outbox import ERROR_MAX

if TYPE_CHECKING:
    from datetime import datetime

    from petition.mail.mailer import Transport

BACKOFF_FIRST_SECONDS = 30


BACKOFF_MAX_SECONDS = 3600


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def due_ids(now: datetime, limit: int) -> Sequence[int]:
    return (
        db.session.execute(
            select(OutgoingEmail.id)
            .where(
                OutgoingEmail.sent_at.is_(None), OutgoingEmail.failed_at.is_(None), OutgoingEmail.next_attempt_at <= now
            )
            .order_by(OutgoingEmail.next_attempt_at, OutgoingEmail.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


# What happened to the emails is written after every few sends, not after each: a worker that dies in
# between sends those few again, with the same Message-ID (see mailer.message_id), which mail
# systems show once.
RECORD_EVERY = 10


# Emails claimed at once: one statement and one commit for the lot, few enough that the last is sent
# long before the lease on it runs out.
CLAIM_CHUNK = 50


def claim(email_ids: Sequence[int], now: datetime) -> list[OutgoingEmail]:
    """Take these emails for sending, in one statement; the ones this worker got (not those another
    worker has, or that are gone), in id order, loaded.

    The lease (MAIL_LEASE_SECONDS) is how long a worker may take; if it dies holding an email,
    another worker takes it when the lease runs out."""
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    claimed = (
        db.session.execute(
            update(OutgoingEmail)
            .where(
                OutgoingEmail.id.in_(email_ids),
                OutgoingEmail.sent_at.is_(None),
                OutgoingEmail.failed_at.is_(None),
                OutgoingEmail.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + lease, attempts=OutgoingEmail.attempts + 1)
            .returning(OutgoingEmail.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    db.session.commit()
    if not claimed:
        return []
    return list(
        db.session.execute(select(OutgoingEmail).where(OutgoingEmail.id.in_(claimed)).order_by(OutgoingEmail.id))
        .scalars()
        .all()
    )


def _reason(error: Exception | str) -> str:
    return (str(error) or type(error).__name__)[:ERROR_MAX]


def _without_address(email: OutgoingEmail, reason: str) -> str:
    """The reason as stored: a mail server's answer often names the recipient ("550 <ada@...>: no such
    user"), and the address must be in the database only sealed; organisers see the address beside it."""
    if not email.to_address:
        return reason
    return re.sub(re.escape(email.to_address), "(the address)", reason, flags=re.IGNORECASE)


def _fail(email: OutgoingEmail, now: datetime, error: Exception | str, report: DeliveryReport) -> None:
    email.failed_at, email.last_error = now, _without_address(email, _reason(error))
    report.failed += 1


def _retry_later(email: OutgoingEmail, now: datetime, error: Exception | str, report: DeliveryReport) -> None:
    """Try again after a backoff; an email the server keeps deferring fails after MAIL_MAX_ATTEMPTS."""
    if email.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        _fail(email, now, f"gave up after {email.attempts} attempts: {_reason(error)}", report)
        return
    email.next_attempt_at = now + backoff(email.attempts)
    email.last_error = _without_address(email, _reason(error))
    report.retrying += 1


def _deliver_one(transport: Transport, email: OutgoingEmail, now: datetime, report: DeliveryReport) -> None:
    """Build and send one email and record what happened. Whatever goes wrong with this one email is
    written on its row; it never stops the others."""
    try:
        message = build_message(email)
    except Exception as error:
        current_app.logger.exception("Email %s could not be built", email.id)
        _fail(email, now, f"could not be built: {_reason(error)}", report)
        return
    try:
        transport.send(message)
    except PermanentFailure as error:
        _fail(email, now, error, report)
    except TemporaryFailure as error:
        _retry_later(email, now, error, report)
    except Exception as error:
        current_app.logger.exception("Email %s could not be sent", email.id)
        _retry_later(email, now, f"unexpected error: {type(error).__name__}: {_reason(error)}", report)
    else:
        email.sent_at = now_utc()
        report.sent += 1


# How many unsent emails may wait before the worker queues more of a mailing.
QUEUE_AHEAD = 1000


def backlog_below(limit: int) -> bool:
    """Fewer than `limit` emails waiting to be sent? Counts at most `limit` rows of the unsent index."""
    waiting = select(OutgoingEmail.id).where(OutgoingEmail.sent_at.is_(None), OutgoingEmail.failed_at.is_(None))
    counted = db.session.execute(select(func.count()).select_from(waiting.limit(limit).subquery())).scalar_one()
    return counted < limit


@dataclass(frozen=True)
class Preparation:
    """Work the worker does before each poll (queuing the next batch of news): `needed` only reads,
    so a poll with nothing to prepare takes no write lock; `run` writes, in a transaction of its own."""

    needed: Callable[[], bool]
    run: Callable[[], int]


Preparations = Preparation | Sequence[Preparation] | None


def _steps(prepare: Preparations) -> Sequence[Preparation]:
    if prepare is None:
        return ()
    return (prepare,) if isinstance(prepare, Preparation) else prepare


def deliver_due(now: datetime | None = None, limit: int = 100, prepare: Preparations = None) -> DeliveryReport:
    """Do the preparations that are needed, in turn, then send what is due now; return what happened."""
    from petition.signatures.settling import settle_signings  # signing queues its emails through this module

    report = DeliveryReport()
    for step in _steps(prepare):
        reading_only()
        needed = step.needed()
        db.session.commit()
        if needed:
            step.run()
            db.session.commit()
    now = now or now_utc()
    reading_only()  # the look at the outbox takes no write lock, so the poll never holds up a signer
    ids = due_ids(now, limit)
    db.session.commit()  # each claim below is a writing transaction of its own
    if not ids:
        return report
    chunks = [ids[start : start + CLAIM_CHUNK] for start in range(0, len(ids), CLAIM_CHUNK)]
    # The claimed rows are this worker's alone until their lease runs out: what was loaded stays
    # valid across the commits below, so reading an email's fields does not query it again.
    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        with open_transport() as transport:
            for chunk in chunks:
                claimed = claim(chunk, now)
                signings = any(email.template in signer_emails.TO_SETTLE for email in claimed)
                claimed, unsettled = settle_signings(claimed)
                unwritten = mailings.write_waiting([email for email in claimed if email.id not in unsettled])
                if signings:  # the signatures they added or changed are kept before any email about them goes
                    db.session.commit()
                for count, email in enumerate(claimed, start=1):
                    if email.id in unsettled:
                        _fail(email, now, unsettled[email.id], report)
                    elif email.id in unwritten and unwritten[email.id] is None:
                        db.session.delete(email)  # no longer to be sent (the signer stopped the news, say)
                    elif email.id in unwritten:
                        _fail(
                            email,
                            now,
                            f"the {email.template} email could not be written: {unwritten[email.id]}",
                            report,
                        )
                    else:
                        _deliver_one(transport, email, now, report)
                    if count % RECORD_EVERY == 0:
                        db.session.commit()
                db.session.commit()
    except TemporaryFailure as error:  # the server could not be reached at all
        current_app.logger.warning("Mail server unavailable, will retry: %s", error)
        for chunk in chunks:
            for email in claim(chunk, now):
                email.next_attempt_at, email.last_error = now + backoff(email.attempts), _reason(error)
                report.retrying += 1
        db.session.commit()
    finally:
        session.expire_on_commit = expiring
    return report


def deliver_forever(
    interval_seconds: float = 2.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_report: Callable[[DeliveryReport], None] | None = None,
    prepare: Preparations = None,
) -> None:
    """The worker's loop: deliver, then wait a little when there was nothing to do. An error (the
    database restarting, say) is logged and the loop goes on: a worker that dies sends nothing."""
    while not should_stop():
        try:
            report = deliver_due(prepare=prepare)
        except Exception:
            current_app.logger.exception("Delivering emails failed; trying again shortly")
            db.session.rollback()
            report = DeliveryReport()
        if on_report and (report.sent or report.retrying or report.failed):
            on_report(report)
        db.session.remove()
        if not report.sent:
            time.sleep(interval_seconds)
