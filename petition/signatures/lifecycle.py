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

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, update

from petition.db.transactions import rows_changed
from petition.extensions import db

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.sql.elements import Case

    from petition.signatures.models import Signature


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


class Review(StrEnum):
    """What organisers see, in order of precedence."""

    FLAGGED = "flagged"
    HIDDEN = "hidden"
    PENDING = "pending"
    CONFIRMED = "confirmed"


class ListingReview(StrEnum):
    """Whether organisers must approve a name before it is listed (LIST_REVIEW). A signature under
    review, or declined, still counts: only its name is kept off the list."""

    NONE = "none"  # no review asked for: listed once it counts
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


LISTABLE = (ListingReview.NONE.value, ListingReview.APPROVED.value)
# Counted and asked to be named, but kept off the list: under review, or declined.
AWAITING_LISTING = tuple(review.value for review in ListingReview if review.value not in LISTABLE)


def sql_list(values: Iterable[str]) -> str:
    """'a', 'b': the values of an enum for a CHECK constraint."""
    return ", ".join(f"'{value}'" for value in values)


def counts(status: str, hidden: bool, suspected_bot: bool) -> bool:
    return status == Status.CONFIRMED and not hidden and not suspected_bot


def review_of(status: str, hidden: bool, suspected_bot: bool) -> Review:
    if suspected_bot:
        return Review.FLAGGED
    if hidden:
        return Review.HIDDEN
    return Review(status)


def review_sql(signature: type[Signature]) -> Case:
    """review_of, as SQL over the columns of `signature` (the class)."""
    return case(
        (signature.suspected_bot, Review.FLAGGED.value), (signature.hidden, Review.HIDDEN.value), else_=signature.status
    )


# --- Transitions -------------------------------------------------------------------------------


def _set_state(signature: Signature, **changes: Any) -> None:
    """Change status / hidden / suspected_bot and `visible` with them, in one step. The current state
    is read before anything is set, so a reload cannot flush a half-made change."""
    state: dict[str, Any] = {
        "status": signature.status,
        "hidden": signature.hidden,
        "suspected_bot": signature.suspected_bot,
        **changes,
    }
    for key, value in state.items():
        setattr(signature, key, value)
    signature.visible = counts(**state)


def new_state(suspected_bot: bool) -> dict[str, Any]:
    """A new signature's state: pending, not hidden, a suspected bot's flagged from the start; so it
    does not count (visible false). The values of its columns, for a new row or a new object."""
    state: dict[str, Any] = {"status": Status.PENDING.value, "hidden": False, "suspected_bot": bool(suspected_bot)}
    return {**state, "visible": counts(**state)}


def confirm(signature: Signature, now: datetime) -> None:
    """The owner pressed "Confirm my signature"; confirming twice changes nothing."""
    if signature.status != Status.CONFIRMED:
        _set_state(signature, status=Status.CONFIRMED.value)
        signature.confirmed_at = now


def correct(signature: Signature, *, name: str, affiliation: str, group: str, listed: bool) -> None:
    """The signer's own corrections: what they are called and whether they are named, not their state."""
    signature.name, signature.affiliation, signature.group, signature.listed = name, affiliation, group, bool(listed)


def replace_unconfirmed(
    signature: Signature, *, suspected_bot: bool, secret: str, signed_at: datetime, **details: Any
) -> None:
    """Someone signed again with the address of this unconfirmed signature: the new details replace
    the old, and so do its secret (old links die) and its time."""
    if signature.status == Status.CONFIRMED:
        raise ValueError("a confirmed signature is never replaced")
    for key, value in details.items():
        setattr(signature, key, value)
    signature.secret, signature.signed_at = secret, signed_at
    _set_state(signature, suspected_bot=bool(suspected_bot))


def may_replace(signature: Signature, suspected_bot: bool) -> bool:
    """Whether a new signing with this signature's address may replace its details: only while nobody
    has confirmed it, and a suspected bot's signing never replaces a person's details."""
    return signature.status != Status.CONFIRMED and (signature.suspected_bot or not suspected_bot)


def hold_for_listing_review(signature: Signature) -> None:
    """The name waits for an organiser before it is listed (it counts meanwhile)."""
    signature.listing_review = ListingReview.PENDING.value


def review_listing(signature: Signature, approved: bool) -> None:
    signature.listing_review = (ListingReview.APPROVED if approved else ListingReview.DECLINED).value


def hide(signature: Signature) -> None:
    _set_state(signature, hidden=True)


def restore(signature: Signature) -> None:
    _set_state(signature, hidden=False)


def approve(signature: Signature) -> None:
    """A person after all, not a bot."""
    _set_state(signature, suspected_bot=False)


def delete_with_emails(signature: Signature) -> None:
    """Withdrawn by its signer or deleted by an organiser: the row and every email about it, and the
    emails done with (sent or failed) that went to its address without naming it (a request for the
    email again that failed, say). A request still waiting for the worker stays: it is a new one."""
    from petition.mail.models import OutgoingEmail

    about_it = OutgoingEmail.signature_id == signature.id
    if signature.email is not None:
        done = OutgoingEmail.sent_at.is_not(None) | OutgoingEmail.failed_at.is_not(None)
        about_it = about_it | (
            OutgoingEmail.signature_id.is_(None) & (OutgoingEmail.to_hash == signature.email_hash) & done
        )
    db.session.execute(delete(OutgoingEmail).where(about_it).execution_options(synchronize_session=False))
    db.session.delete(signature)


def hide_where(signature_class: type[Signature], conditions: Sequence[ColumnElement[bool]]) -> int:
    """Hide every signature that matches, in one statement; returns how many."""
    return rows_changed(
        update(signature_class)
        .where(signature_class.hidden.is_(False), *conditions)
        .values(hidden=True, visible=False)
        .execution_options(synchronize_session=False)
    )
