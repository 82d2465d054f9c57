"""The outbox: emails are stored with the change that causes them and delivered by a worker.

Signing never waits on the mail server. The worker claims each email by pushing its
next_attempt_at forward in one conditional UPDATE (a lease), so two workers never send the same
email, then records it as sent; a failure schedules a retry with exponential backoff.
"""
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from .extensions import db
from .mailer import PermanentFailure, TemporaryFailure, build_message, open_transport
from .models import OutgoingEmail, now_utc

LEASE = timedelta(minutes=5)  # longer than any one SMTP exchange
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
ERROR_MAX = 500


def queue_email(to_address, subject, body, signature_id=None):
    """Add an email to the outbox in the caller's transaction; it is sent only if that commits."""
    email = OutgoingEmail(to_address=to_address, subject=subject, body=body, signature_id=signature_id)
    db.session.add(email)
    return email


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts):
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def due_ids(now, limit):
    return db.session.execute(
        select(OutgoingEmail.id)
        .where(OutgoingEmail.sent_at.is_(None), OutgoingEmail.failed_at.is_(None), OutgoingEmail.next_attempt_at <= now)
        .order_by(OutgoingEmail.next_attempt_at, OutgoingEmail.id)
        .limit(limit)
    ).scalars().all()


def claim(email_id, now):
    """Take one email for sending; False if another worker has it or it is gone."""
    result = db.session.execute(
        update(OutgoingEmail)
        .where(OutgoingEmail.id == email_id, OutgoingEmail.sent_at.is_(None),
               OutgoingEmail.failed_at.is_(None), OutgoingEmail.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=OutgoingEmail.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def _retry_later(email, now, error):
    email.next_attempt_at = now + backoff(email.attempts)
    email.last_error = str(error)[:ERROR_MAX]


def deliver_due(now=None, limit=100):
    """Send what is due now; return what happened."""
    now = now or now_utc()
    report = DeliveryReport()
    ids = due_ids(now, limit)
    if not ids:
        return report
    try:
        with open_transport() as transport:
            for email_id in ids:
                if not claim(email_id, now):
                    continue
                email = db.session.get(OutgoingEmail, email_id)
                try:
                    transport.send(build_message(email))
                except TemporaryFailure as error:
                    _retry_later(email, now, error)
                    report.retrying += 1
                except PermanentFailure as error:
                    email.failed_at, email.last_error = now, str(error)[:ERROR_MAX]
                    report.failed += 1
                else:
                    email.sent_at = now_utc()
                    report.sent += 1
                db.session.commit()
    except TemporaryFailure as error:  # the server could not be reached at all
        current_app.logger.warning("Mail server unavailable, will retry: %s", error)
        for email_id in ids:
            if claim(email_id, now):
                _retry_later(db.session.get(OutgoingEmail, email_id), now, error)
                report.retrying += 1
        db.session.commit()
    return report


def deliver_forever(interval_seconds=2.0, should_stop=lambda: False, on_report=None):
    """The worker's loop: deliver, then wait a little when there was nothing to do."""
    while not should_stop():
        report = deliver_due()
        if on_report and (report.sent or report.retrying or report.failed):
            on_report(report)
        db.session.remove()
        if not report.sent:
            time.sleep(interval_seconds)


def outbox_summary():
    """Counts for the organisers' dashboard: waiting, sent, failed."""
    sent, failed = OutgoingEmail.sent_at.is_not(None), OutgoingEmail.failed_at.is_not(None)
    waiting = OutgoingEmail.sent_at.is_(None) & OutgoingEmail.failed_at.is_(None)
    row = db.session.execute(
        select(func.count().filter(waiting), func.count().filter(sent), func.count().filter(failed))
    ).one()
    return {"waiting": row[0], "sent": row[1], "failed": row[2]}
