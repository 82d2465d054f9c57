"""Mailings, and who writes each email the worker sends.

A mailing is one email to many signers: an update to those who asked for news, a notice that the
letter changed to those who signed an earlier version. Asking for one only adds a row (`request`);
the mail worker queues it in batches as it goes (`queue_due_mailings`, its step), in signature order,
each email a row naming its template and what it is about, with no text; it writes each email just
before sending it (`write_waiting`), with the writer registered for its template, so an update
edited after it was queued goes out as edited.

The news and the letter register their mailings when the app is made (create_app), so this
package imports neither.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.mail.models import Mailing, OutgoingEmail
from petition.mail.outbox import MAILING_EMAILS, queue_mailing

if TYPE_CHECKING:
    from datetime import datetime

    from petition.signatures.models import Signature

# Why each email a writer did not write was not, by id: a reason (the worker fails it, organisers see
# why), or None for an email no longer to be sent at all (the worker drops it).
Unwritten = Mapping[int, str | None]

# Writes the subject and body of each of these emails (all of its template, still unwritten).
Writer = Callable[[Sequence[OutgoingEmail]], Unwritten]

WRITERS: dict[str, Writer] = {}


@dataclass(frozen=True)
class MailingKind:
    """What a feature tells the worker about its mailings."""

    kind: str  # Mailing.kind: "update" or "version"
    # (mailing, after this signature id, at most this many): who is still to get it, in id order;
    # nobody once it is not to go on (an update withdrawn).
    recipients: Callable[[Mailing, int, int], Sequence[Signature]]
    write: Writer  # writes its emails (of the template outbox.MAILING_EMAILS names)
    paced: bool = False  # spread out at NEWS_PER_MINUTE, not all due at once


KINDS: dict[str, MailingKind] = {}


def register_writer(templates: Iterable[str], writer: Writer) -> None:
    for template in templates:
        WRITERS[template] = writer


def register(kind: MailingKind) -> None:
    """A feature's mailings: the worker queues them and writes their emails. Registering again
    replaces what was registered (each app made registers the same)."""
    KINDS[kind.kind] = kind
    register_writer([MAILING_EMAILS[kind.kind][0]], kind.write)


def request(kind: str, *, update_id: int | None = None, version_number: int | None = None) -> Mailing:
    """Ask for a mailing, in the caller's transaction; the worker does the rest."""
    mailing = Mailing(kind=kind, update_id=update_id, version_number=version_number, mail_requested_at=now_utc())
    db.session.add(mailing)
    db.session.flush()
    return mailing


def requested_updates() -> set[int]:
    """The updates organisers asked to email."""
    found = db.session.execute(select(Mailing.update_id).where(Mailing.update_id.is_not(None))).scalars()
    return {update_id for update_id in found if update_id is not None}


def _mailings() -> list[tuple[Mailing, MailingKind]]:
    found = db.session.execute(select(Mailing).order_by(Mailing.id)).scalars()
    return [(mailing, KINDS[mailing.kind]) for mailing in found if mailing.kind in KINDS]


def mailings_due() -> bool:
    """Is some mailing still to be queued to someone? (Only reads.)"""
    return any(kind.recipients(mailing, mailing.mailed_up_to, 1) for mailing, kind in _mailings())


def queue_due_mailings(batch: int = 500, now: datetime | None = None) -> int:
    """The mail worker's step: queue the next batch of each mailing; how many emails were queued. The
    caller commits (the worker, once per step)."""
    now = now or now_utc()
    per_minute = max(1, int(current_app.config["NEWS_PER_MINUTE"]))
    return sum(
        queue_mailing(
            mailing, kind.recipients(mailing, mailing.mailed_up_to, batch), now, per_minute if kind.paced else None
        )
        for mailing, kind in _mailings()
    )


def write_waiting(emails: Sequence[OutgoingEmail]) -> dict[int, str | None]:
    """Write the emails among `emails` that are still to be written, each with its template's writer;
    why each one that was not written was not (see Unwritten)."""
    by_template: dict[str, list[OutgoingEmail]] = defaultdict(list)
    for email in emails:
        if email.template is not None and email.body is None:
            by_template[email.template].append(email)
    unwritten: dict[int, str | None] = {}
    for template, waiting in by_template.items():
        writer = WRITERS.get(template)
        if writer is None:
            unwritten |= {email.id: f"no writer for the {template!r} email" for email in waiting}
        else:
            unwritten |= writer(waiting)
    return unwritten
