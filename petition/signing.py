"""Signing the letter and everything a signer can do afterwards: the rules, callable without HTTP."""
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import CONFIRMED, OutgoingEmail, Signature, now_utc
from .signer_emails import queue_already_signed, queue_confirmation
from .text import normalise_email, tidy


@dataclass(frozen=True)
class SignOutcome:
    signature: Signature
    created: bool  # False when this address had already signed; nothing was added


def sign(*, name, affiliation, email, group, listed=True, ip_hash=None, suspected_bot=False, language="en"):
    """Add a pending signature and queue its confirmation email, in one transaction.

    A second signature from the same address adds nothing; its owner is told by email (never on
    the page, so the form cannot be used to learn who signed). The unique constraint on the
    address decides, so two simultaneous attempts cannot both win. A suspected bot's signature
    is stored for review but never emailed, counted or listed.
    """
    signature = Signature(
        name=tidy(name), affiliation=tidy(affiliation), email=normalise_email(email), group=group,
        listed=bool(listed), ip_hash=ip_hash, suspected_bot=suspected_bot, language=language,
    )
    db.session.add(signature)
    try:
        db.session.flush()  # assigns the id the emailed links carry
        if not suspected_bot:
            queue_confirmation(signature)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = signature_by_email(signature.email)
        if existing is None:  # some other rule was broken: not a duplicate, so not ours to hide
            raise
        if not suspected_bot:
            queue_already_signed(existing)
            db.session.commit()
        return SignOutcome(existing, created=False)
    return SignOutcome(signature, created=True)


def signature_by_email(email):
    return db.session.execute(
        select(Signature).where(Signature.email == normalise_email(email))
    ).scalar_one_or_none()


def confirm_signature(signature):
    """The owner pressed "Confirm my signature". Confirming twice changes nothing."""
    if signature.status != CONFIRMED:
        signature.change(status=CONFIRMED, confirmed_at=now_utc())
        db.session.commit()
    return signature


def correct_signature(signature, *, name, affiliation, group, listed):
    signature.name, signature.affiliation = tidy(name), tidy(affiliation)
    signature.group, signature.listed = group, bool(listed)
    db.session.commit()
    return signature


def withdraw_signature(signature):
    """Delete the signature and every email about it: name, affiliation and address are gone for good."""
    db.session.execute(delete(OutgoingEmail).where(OutgoingEmail.signature_id == signature.id))
    db.session.delete(signature)
    db.session.commit()


def resend_confirmation(email):
    """Queue the email its owner needs (a fresh confirmation link, or their private link).

    Says nothing about whether the address has signed: the page looks the same either way.
    """
    try:
        signature = signature_by_email(email)
    except ValueError:
        return
    if signature is None or signature.suspected_bot:
        return
    if signature.status == CONFIRMED:
        queue_already_signed(signature)
    else:
        queue_confirmation(signature)
    db.session.commit()
