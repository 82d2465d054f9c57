"""The life of a signature: its states, the only ways they change, and what they mean.

A signature is *pending* until its owner confirms it, then *confirmed*. Organisers may *hide* it
and *restore* it; the honeypot *flags* it as a probable bot and organisers may *approve* it.
It **counts** when it is confirmed, not hidden and not flagged, and it is **listed** when it
counts and its signer asked to be named. What organisers see as its review status follows one
precedence: flagged, then hidden, then pending or confirmed.

The database stores "counts" as the `visible` column (the counters' triggers and the list's
indexes read it) and checks it against the rest (the visible_rule constraint). The functions
below are the only code that changes a signature's state, and each keeps `visible` in step.
They change the session, never commit: the caller's transaction decides.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import case, delete, update

from .extensions import db


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


class Review(StrEnum):
    """What organisers see, in order of precedence."""

    FLAGGED = "flagged"
    HIDDEN = "hidden"
    PENDING = "pending"
    CONFIRMED = "confirmed"


def sql_list(values):
    """'a', 'b': the values of an enum for a CHECK constraint."""
    return ", ".join(f"'{value}'" for value in values)


def counts(status, hidden, suspected_bot):
    return status == Status.CONFIRMED and not hidden and not suspected_bot


def review_of(status, hidden, suspected_bot):
    if suspected_bot:
        return Review.FLAGGED
    if hidden:
        return Review.HIDDEN
    return Review(status)


def review_sql(signature):
    """review_of, as SQL over the columns of `signature` (the class)."""
    return case(
        (signature.suspected_bot, Review.FLAGGED.value), (signature.hidden, Review.HIDDEN.value), else_=signature.status
    )


# --- Transitions -------------------------------------------------------------------------------


def _set_state(signature, **changes):
    """Change status / hidden / suspected_bot and `visible` with them, in one step. The current state
    is read before anything is set, so a reload cannot flush a half-made change."""
    state = {"status": signature.status, "hidden": signature.hidden, "suspected_bot": signature.suspected_bot}
    state.update(changes)
    for key, value in state.items():
        setattr(signature, key, value)
    signature.visible = counts(**state)


def new_signature(signature_class, *, email, suspected_bot, **details):
    """A pending signature; a suspected bot's is flagged from the start."""
    signature = signature_class(email=email, **details)
    _set_state(signature, status=Status.PENDING.value, hidden=False, suspected_bot=bool(suspected_bot))
    return signature


def confirm(signature, now):
    """The owner pressed "Confirm my signature"; confirming twice changes nothing."""
    if signature.status != Status.CONFIRMED:
        _set_state(signature, status=Status.CONFIRMED.value)
        signature.confirmed_at = now


def correct(signature, *, name, affiliation, group, listed):
    """The signer's own corrections: what they are called and whether they are named, not their state."""
    signature.name, signature.affiliation, signature.group, signature.listed = name, affiliation, group, bool(listed)


def replace_unconfirmed(signature, *, suspected_bot, secret, signed_at: datetime, **details):
    """Someone signed again with the address of this unconfirmed signature: the new details replace
    the old, and so do its secret (old links die) and its time."""
    if signature.status == Status.CONFIRMED:
        raise ValueError("a confirmed signature is never replaced")
    for key, value in details.items():
        setattr(signature, key, value)
    signature.secret, signature.signed_at = secret, signed_at
    _set_state(signature, suspected_bot=bool(suspected_bot))


def hide(signature):
    _set_state(signature, hidden=True)


def restore(signature):
    _set_state(signature, hidden=False)


def approve(signature):
    """A person after all, not a bot."""
    _set_state(signature, suspected_bot=False)


def delete_with_emails(signature):
    """Withdrawn by its signer or deleted by an organiser: the row and every email about it."""
    from .models import OutgoingEmail

    db.session.execute(delete(OutgoingEmail).where(OutgoingEmail.signature_id == signature.id))
    db.session.delete(signature)


def hide_where(signature_class, conditions):
    """Hide every signature that matches, in one statement; returns how many."""
    result = db.session.execute(
        update(signature_class)
        .where(signature_class.hidden.is_(False), *conditions)
        .values(hidden=True, visible=False)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
