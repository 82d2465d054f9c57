"""Closing the letter: when signing ends, by schedule (SIGNING_CLOSES_AT) or by hand.

Once closed, nobody new can sign, and no new confirmation link is issued: asking for the email
again sends none (a confirmed signer still gets their private link), the signer's private page
offers none, and approving a flagged signature sends none. A link issued before closing still
confirms until it expires, CONFIRM_MAX_AGE (a week by default) after it was issued: its signer
signed in time, and the email may have arrived late (a signing the form accepted before closing
is dated when it was made, even if the mail worker writes its email later). A link issued after
closing confirms nothing (link_confirms). So the final counts settle CONFIRM_MAX_AGE after closing
at the latest; the pages say so. Signers can still correct or withdraw their own signature.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, has_request_context
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.letter.models import LetterState
from petition.organisers import audit
from petition.organisers.models import Organiser
from petition.web.page_cache import forget, remembered


class SigningClosed(Exception):
    """Signing has ended: nothing is added and nothing is sent."""


def _state() -> LetterState:
    return db.session.get_one(LetterState, 1)


def _closed_by_hand(fresh: bool) -> datetime | None:
    """Every page asks whether signing has closed. Each process keeps the answer CLOSING_CACHE_SECONDS
    (1), so the sign form is served without a query; signing itself always reads it afresh
    (fresh=True), inside the transaction that adds the signature, so nobody signs after the moment it
    closed."""
    config = current_app.config
    return remembered(
        ("closed by hand", id(config)),
        lambda: db.session.execute(select(LetterState.closed_at).where(LetterState.id == 1)).scalar_one(),
        config.get("CLOSING_CACHE_SECONDS", 0),
        fresh=fresh,
    )


def _forget() -> None:
    forget("closed by hand")
    if has_request_context():
        g.pop("letter_closed_at", None)


def closed_at(now: datetime | None = None, fresh: bool = False) -> datetime | None:
    """When signing closed, or None while it is open. Read once per request (fresh: read now)."""
    if now is None and not fresh and has_request_context() and "letter_closed_at" in g:
        return g.letter_closed_at
    now = now or now_utc()
    scheduled = current_app.config.get("SIGNING_CLOSES_AT")
    by_hand = _closed_by_hand(fresh)
    moments = [moment for moment in (by_hand, scheduled) if moment is not None and moment <= now]
    closed = min(moments) if moments else None
    if has_request_context():
        g.letter_closed_at = closed
    return closed


def scheduled_closing_passed() -> bool:
    """Has SIGNING_CLOSES_AT passed? Configuration only, no query: signing checks the closing by hand
    in the statement that adds the signature."""
    scheduled = current_app.config.get("SIGNING_CLOSES_AT")
    return scheduled is not None and scheduled <= now_utc()


def is_closed(fresh: bool = False) -> bool:
    return closed_at(fresh=fresh) is not None


def issues_confirmation_links(at: datetime | None = None) -> bool:
    """Whether a new confirmation link may be issued at `at` (now): only while signing is open (the
    rule in this module's docstring)."""
    return closed_at(at, fresh=True) is None


def link_confirms(issued_at: datetime) -> bool:
    """Whether a confirmation link issued at `issued_at` may still confirm a signature, as far as the
    closing goes: only one issued before signing closed (the rule in this module's docstring; the
    link's own age, CONFIRM_MAX_AGE, is checked where it is read)."""
    closed = closed_at(fresh=True)
    return closed is None or issued_at < closed


def close(organiser: Organiser, reason: str) -> datetime:
    """Close signing now, by hand; the audit log says who and why. Closing twice keeps the first time."""
    state = _state()
    if state.closed_at is None:
        state.closed_at = now_utc()
        audit.record(organiser, "close", "signing", reason)
    db.session.flush()
    _forget()
    return state.closed_at


def reopen(organiser: Organiser, reason: str) -> None:
    """Open signing again. A scheduled closing that has passed cannot be undone here: its setting is
    changed where it is set."""
    scheduled = current_app.config.get("SIGNING_CLOSES_AT")
    if scheduled is not None and scheduled <= now_utc():
        raise ValueError(f"SIGNING_CLOSES_AT ({scheduled.isoformat()}) has passed: change or remove it to reopen.")
    state = _state()
    if state.closed_at is not None:
        state.closed_at = None
        audit.record(organiser, "reopen", "signing", reason)
    db.session.flush()
    _forget()
