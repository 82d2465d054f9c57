"""Review before a name is listed (LIST_REVIEW): someone could sign in a real scholar's name, and a
false name on the list can endanger the person named. With review on, a confirmed signature counts at
once but its name waits for an organiser: approved, it is listed; declined, it stays counted and
unlisted and its signer is told by email, with their private link.

LIST_REVIEW is `none` (no review), `all`, or `unverified`: only addresses whose domain is not on
the maintained list of academic domains (institutions.institutional_hint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from petition.extensions import db
from petition.mail.signer_emails import queue_signer_email
from petition.organisers import audit
from petition.signatures import lifecycle
from petition.signatures.institutions import institutional_hint
from petition.signatures.lifecycle import ListingReview
from petition.signatures.models import Signature

if TYPE_CHECKING:
    from sqlalchemy import Select

    from petition.organisers.models import Organiser

POLICIES = ("none", "all", "unverified")


def needs_review(signature: Signature) -> bool:
    policy = current_app.config["LIST_REVIEW"]
    if policy == "all":
        return True
    if policy == "unverified":
        return signature.email is None or institutional_hint(signature.email) is None
    return False


def on_confirmed(signature: Signature) -> None:
    """Confirmed just now: a named signature waits for review if the policy says so."""
    if signature.listed and needs_review(signature):
        lifecycle.hold_for_listing_review(signature)


def on_corrected(signature: Signature, *, renamed: bool) -> None:
    """The signer changed what the list would show (their name or affiliation, or asked to be named):
    a name that needs review is reviewed again, even if an earlier one was approved."""
    if signature.is_confirmed and signature.listed and renamed and needs_review(signature):
        lifecycle.hold_for_listing_review(signature)


def _target(signature: Signature) -> str:
    return f"signature #{signature.id}"


def approve(signature: Signature, organiser: Organiser, reason: str = "") -> None:
    lifecycle.review_listing(signature, approved=True)
    audit.record(organiser, "approve-listing", _target(signature), reason)
    db.session.flush()


def decline(signature: Signature, organiser: Organiser, reason: str) -> None:
    """Not listed; still counted. The signer learns it from an email with their private link, where
    they can correct their details (which asks for a new review) or withdraw."""
    lifecycle.review_listing(signature, approved=False)
    audit.record(organiser, "decline-listing", _target(signature), reason)
    if signature.email is not None:  # an erased address cannot be written to
        queue_signer_email(signature, "listing_declined")
    db.session.flush()


def awaiting_per_group() -> dict[str, int]:
    """Counted signatures asking to be named whose names are not listed (under review or declined)."""
    return {group: int(n) for group, n in db.session.execute(awaiting_per_group_query())}


def awaiting_per_group_query() -> Select[str, int]:
    # Asked on every list page: the partial index ix_signatures_awaiting_listing answers it.
    return select(Signature.group, func.count()).where(Signature.awaiting_listing).group_by(Signature.group)


def is_pending(signature: Signature) -> bool:
    return signature.listing_review == ListingReview.PENDING
