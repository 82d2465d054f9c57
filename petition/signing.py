"""Signing the letter: the rules, callable without HTTP."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Signature
from .text import normalise_email, tidy


@dataclass(frozen=True)
class SignOutcome:
    signature: Signature
    created: bool  # False when this address had already signed; nothing was added


def sign(*, name, affiliation, email, group, listed=True):
    """Add a signature. A second signature from the same address adds nothing.

    The unique constraint on the address decides, so two simultaneous attempts cannot both win.
    """
    signature = Signature(
        name=tidy(name),
        affiliation=tidy(affiliation),
        email=normalise_email(email),
        group=group,
        listed=bool(listed),
    )
    db.session.add(signature)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = signature_by_email(signature.email)
        if existing is None:  # some other rule was broken: not a duplicate, so not ours to hide
            raise
        return SignOutcome(existing, created=False)
    return SignOutcome(signature, created=True)


def signature_by_email(email):
    return db.session.execute(
        select(Signature).where(Signature.email == normalise_email(email))
    ).scalar_one_or_none()
