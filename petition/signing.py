"""Signing the letter and everything a signer can do afterwards: the rules, callable without HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from . import closing, lifecycle, listing, versions
from .addresses import email_hash
from .extensions import db
from .models import OutgoingEmail, Signature, new_secret, now_utc
from .signer_emails import queue_already_signed, queue_confirmation
from .text import normalise_email, tidy


@dataclass(frozen=True)
class SignOutcome:
    signature: Signature
    created: bool  # False when this address had already signed; nothing was added
    replaced: bool = False  # an unconfirmed signature from this address took these new details


def sign(
    *,
    name: str,
    affiliation: str,
    email: str,
    group: str,
    listed: bool = True,
    wants_updates: bool = False,
    ip_hash: str | None = None,
    suspected_bot: bool = False,
    language: str = "en",
    fill_seconds: float | None = None,
) -> SignOutcome:
    """Add a pending signature and queue its confirmation email, in one transaction.

    The unique constraint on the address decides what happens when the address is taken, so two
    simultaneous attempts cannot both win. If its signature is confirmed, nothing is added and the
    owner is told by email (never on the page, so the form cannot be used to learn who signed).
    If it is not confirmed, nobody has shown they own the address yet: see replace_unconfirmed.
    A suspected bot's signature (the honeypot) is stored for review but never emailed, counted or
    listed. `fill_seconds` (how long the form took) is kept for organisers; on its own it flags nothing.
    Raises SigningClosed once the letter is closed: nothing is added and nothing is sent.
    """
    if closing.is_closed():
        raise closing.SigningClosed()
    version = versions.current_number()
    details: dict[str, Any] = {
        "letter_version": version,
        "name": tidy(name),
        "affiliation": tidy(affiliation),
        "group": group,
        "listed": bool(listed),
        "wants_updates": bool(wants_updates),
        "ip_hash": ip_hash,
        "suspected_bot": suspected_bot,
        "language": language,
        "fill_seconds": fill_seconds,
    }
    signature = lifecycle.new_signature(Signature, email=normalise_email(email), **details)
    try:
        with db.session.begin_nested():  # a savepoint: a taken address undoes only this insert
            db.session.add(signature)
            db.session.flush()  # assigns the id the emailed links carry
    except IntegrityError:
        existing = signature_by_email(signature.email or "", for_update=True)
        if existing is None:  # some other rule was broken: not a duplicate, so not ours to hide
            raise
        if not existing.is_confirmed:
            return replace_unconfirmed(existing, details)
        if not suspected_bot:
            queue_already_signed(existing, to=signature.email)
        db.session.flush()
        return SignOutcome(existing, created=False)
    if not suspected_bot:
        queue_confirmation(signature)
    db.session.flush()
    return SignOutcome(signature, created=True)


def replace_unconfirmed(signature: Signature, details: dict[str, Any]) -> SignOutcome:
    """A new signing with an address whose signature nobody has confirmed: the new details replace
    the old and a normal confirmation goes to the address, so a bot or a stranger who typed someone's
    address first cannot keep its owner from signing. Earlier links stop working (a new secret);
    the emails not yet sent with them are dropped. A suspected bot never replaces a person's details.
    """
    if details["suspected_bot"] and not signature.suspected_bot:
        return SignOutcome(signature, created=False)
    drop_unsent_emails(signature)
    lifecycle.replace_unconfirmed(signature, secret=new_secret(), signed_at=now_utc(), **details)
    if not signature.suspected_bot:
        queue_confirmation(signature)
    db.session.flush()
    return SignOutcome(signature, created=False, replaced=True)


def drop_unsent_emails(signature: Signature) -> None:
    """Its emails not yet sent carry links that no longer work."""
    db.session.execute(
        delete(OutgoingEmail).where(OutgoingEmail.signature_id == signature.id, OutgoingEmail.sent_at.is_(None))
    )


def signature_by_email(email: str, for_update: bool = False) -> Signature | None:
    """The signature of this address. for_update locks its row (PostgreSQL) and reads it afresh, so a
    confirmation that lands meanwhile is seen before its details could be replaced."""
    address = normalise_email(email)
    # An erased address is found by its keyed hash.
    statement = select(Signature).where(or_(Signature.email == address, Signature.email_hash == email_hash(address)))
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(statement).scalar_one_or_none()


def confirm_signature(signature: Signature) -> Signature:
    """The owner pressed "Confirm my signature". Confirming twice changes nothing. It counts only
    if the organisers have not held it back (signature.visible says)."""
    if not signature.is_confirmed:
        lifecycle.confirm(signature, now_utc())
        listing.on_confirmed(signature)
        db.session.flush()
    return signature


def correct_signature(
    signature: Signature, *, name: str, affiliation: str, group: str, listed: bool, wants_updates: bool | None = None
) -> Signature:
    name, affiliation = tidy(name), tidy(affiliation)
    renamed = (name, affiliation) != (signature.name, signature.affiliation) or (listed and not signature.listed)
    lifecycle.correct(signature, name=name, affiliation=affiliation, group=group, listed=listed)
    listing.on_corrected(signature, renamed=renamed)
    if wants_updates is not None:
        signature.wants_updates = bool(wants_updates)
    db.session.flush()
    return signature


def withdraw_signature(signature: Signature) -> None:
    """The signer withdraws: the signature and every email about it are deleted for good."""
    lifecycle.delete_with_emails(signature)
    db.session.flush()


def resend_confirmation(email: str) -> None:
    """Queue the email its owner needs (a fresh confirmation link, or their private link).

    Says nothing about whether the address has signed: the page looks the same either way.
    """
    try:
        signature = signature_by_email(email)
    except ValueError:
        return
    if signature is None or signature.suspected_bot:
        return
    if signature.is_confirmed:
        queue_already_signed(signature, to=normalise_email(email))
    else:
        queue_confirmation(signature)
    db.session.flush()
