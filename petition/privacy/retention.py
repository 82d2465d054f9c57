"""Keeping as little as possible for as short a time as possible."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, case, delete, select, update

from petition.db.transactions import rows_changed
from petition.db.types import now_utc
from petition.extensions import db
from petition.letter import closing
from petition.mail.models import OutgoingEmail
from petition.organisers.models import LoginAttempt, OrganiserSession
from petition.signatures.lifecycle import Status
from petition.signatures.models import Signature

_AGE = re.compile(r"^\s*(\d+)\s*([dhw])\s*$")
_UNITS = {"d": "days", "h": "hours", "w": "weeks"}


# Longer than anything worth keeping, and far inside what dates can hold (an age of a billion days
# cannot be taken away from today).
AGE_MAX = timedelta(days=100 * 366)


def parse_age(text: str) -> timedelta:
    """'90d', '12h' or '2w' as a timedelta, at most a hundred years."""
    match = _AGE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an age such as 90d, 12h or 2w")
    amount, unit = int(match.group(1)), _UNITS[match.group(2)]
    if amount > AGE_MAX / timedelta(**{unit: 1}):
        raise ValueError(f"{text!r} is longer than a hundred years; use a shorter age such as 90d")
    return timedelta(**{unit: amount})


@dataclass(frozen=True)
class PurgeReport:
    ip_hashes_cleared: int
    unconfirmed_deleted: int
    emails_deleted: int
    login_attempts_deleted: int
    addresses_erased: int = 0


def purge(older_than: timedelta, now: datetime | None = None) -> PurgeReport:
    """Forget IP hashes, unconfirmed signatures, sent or failed emails and login records (attempts
    and organiser sessions) older than the given age. Confirmed signatures themselves stay: they are the letter."""
    cutoff = (now or now_utc()) - older_than
    cleared = rows_changed(
        update(Signature).where(Signature.signed_at < cutoff, Signature.ip_hash.is_not(None)).values(ip_hash=None)
    )
    stale = select(Signature.id).where(Signature.status == Status.PENDING.value, Signature.signed_at < cutoff)
    emails = rows_changed(
        delete(OutgoingEmail).where(
            (OutgoingEmail.signature_id.in_(stale))
            | (
                (OutgoingEmail.created_at < cutoff)
                & (OutgoingEmail.sent_at.is_not(None) | OutgoingEmail.failed_at.is_not(None))
            )
        )
    )
    unconfirmed = rows_changed(
        delete(Signature).where(Signature.status == Status.PENDING.value, Signature.signed_at < cutoff)
    )
    attempts = rows_changed(delete(LoginAttempt).where(LoginAttempt.created_at < cutoff))
    # Logins that old end too (a copied cookie stops working); the rows of ended ones go.
    attempts += rows_changed(delete(OrganiserSession).where(OrganiserSession.created_at < cutoff))
    db.session.flush()
    return PurgeReport(cleared, unconfirmed, emails, attempts, erase_addresses(now or now_utc()))


def erase_addresses(now: datetime) -> int:
    """Once the letter has been closed for ERASE_EMAILS_AFTER_DAYS, the addresses of confirmed signers
    who did not ask for news are no longer needed: erase them, keeping the keyed hash (so the same
    address cannot sign twice if signing reopens), from their signatures and from the outbox
    (erase_from_outbox). Names, affiliations and the counts stay. An email queued to an erased
    signature since (they signed again after a reopening, say) is erased at the next purge."""
    closed = closing.closed_at(now)
    erased = 0
    if closed is not None and now - closed >= timedelta(days=current_app.config["ERASE_EMAILS_AFTER_DAYS"]):
        to_erase = (
            Signature.status == Status.CONFIRMED.value,
            Signature.wants_updates.is_(False),
            Signature.email.is_not(None),
        )
        erase_from_outbox(select(Signature.id).where(*to_erase), select(Signature.email_hash).where(*to_erase), now)
        erased = rows_changed(
            update(Signature)
            .where(*to_erase)
            .values(email=None, email_key=None, email_erased_at=now)
            .execution_options(synchronize_session=False)
        )
    erase_from_outbox(select(Signature.id).where(Signature.email_erased_at.is_not(None)), None, now)
    return erased


# Why an email about an erased address was not delivered, in words that hold no address.
ERASED_BEFORE_SENDING = "not sent: its address was erased"
ERASED_AFTER_FAILING = "failed; its address has since been erased"


def erase_from_outbox(signatures: Select[Any], address_hashes: Select[Any] | None, now: datetime) -> int:
    """Erase an address from every outbox row that holds it: the rows about these signatures, and the
    rows to these addresses that name no signature (a request for the email again, say). Each keeps
    what it was and when, but not its address, its written text (which holds private links) or
    anything the signer gave; the reason it failed is replaced by one that holds no address. One
    still waiting can never be sent: it fails, and organisers see why. How many rows it erased."""
    holds_it: ColumnElement[bool] = OutgoingEmail.signature_id.in_(signatures)
    if address_hashes is not None:  # the addresses are sealed: the rows to them are found by keyed hash
        holds_it = holds_it | (OutgoingEmail.signature_id.is_(None) & OutgoingEmail.to_hash.in_(address_hashes))
    waiting = OutgoingEmail.sent_at.is_(None) & OutgoingEmail.failed_at.is_(None)
    return rows_changed(
        update(OutgoingEmail)
        .where(holds_it, OutgoingEmail.to_address.is_not(None))
        .values(
            to_address=None,
            to_hash=None,
            body=None,
            unsubscribe_url=None,
            signing_details=None,
            last_error=case(
                (waiting, ERASED_BEFORE_SENDING),
                (OutgoingEmail.failed_at.is_not(None), ERASED_AFTER_FAILING),
                else_=None,
            ),
            failed_at=case((waiting, now), else_=OutgoingEmail.failed_at),
        )
        .execution_options(synchronize_session=False)
    )
