"""Organiser accounts: creating them, checking their passwords, and their login sessions."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from flask import session
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from . import lockout
from .extensions import db
from .models import EMAIL_MAX, Organiser, OrganiserSession, now_utc
from .text import normalise_email, tidy

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

SESSION_KEY = "organiser_session"

PASSWORD_MIN = 12


class AccountError(ValueError):
    pass


def _check_password_length(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"The password must have at least {PASSWORD_MIN} characters.")


def login_key(email: str) -> str:
    """The one form of an address that login, its lockout and the accounts all use: lock@ｅxample.org
    and LOCK@example.org are lock@example.org. Text that is no address is still counted, trimmed."""
    try:
        return normalise_email(email or "")
    except ValueError:
        return tidy(email).lower()[:EMAIL_MAX]


def create_organiser(email: str, password: str) -> Organiser:
    _check_password_length(password)
    organiser = Organiser(email=normalise_email(email), password_hash=generate_password_hash(password))
    try:
        with db.session.begin_nested():  # a savepoint: a taken address undoes only this insert
            db.session.add(organiser)
    except IntegrityError:
        raise AccountError(f"An organiser with the address {organiser.email} already exists.") from None
    return organiser


# Checked against when the address is unknown, so a wrong address takes as long as a wrong password.
_UNKNOWN_ACCOUNT_HASH = generate_password_hash("no account has this password")


def authenticate(email: str, password: str) -> Organiser | None:
    """The organiser with this address and password, or None."""
    try:
        email = normalise_email(email)
    except ValueError:
        return None
    organiser = db.session.execute(select(Organiser).where(Organiser.email == email)).scalar_one_or_none()
    if organiser is None:
        check_password_hash(_UNKNOWN_ACCOUNT_HASH, password)
        return None
    return organiser if check_password_hash(organiser.password_hash, password) else None


def organiser_by_email(email: str) -> Organiser:
    """The organiser with this address; AccountError if there is none."""
    key = login_key(email)
    organiser = db.session.execute(select(Organiser).where(Organiser.email == key)).scalar_one_or_none()
    if organiser is None:
        raise AccountError(f"There is no organiser with the address {key}.")
    return organiser


def change_password(email: str, password: str) -> Organiser:
    """Set a new password and end every session of the account (a stolen cookie stops working)."""
    _check_password_length(password)
    organiser = organiser_by_email(email)
    organiser.password_hash = generate_password_hash(password)
    end_every_session(organiser)
    db.session.flush()
    return organiser


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(organiser: Organiser) -> None:
    """Record a new login and put its token in the (signed) session cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(OrganiserSession(organiser_id=organiser.id, token_hash=_token_hash(token)))
    db.session.flush()
    session[SESSION_KEY] = token


def end_session() -> None:
    """Logging out ends this login for every copy of the cookie, not just the browser's own."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        _end_sessions(OrganiserSession.token_hash == _token_hash(token))
        db.session.flush()


def end_every_session(organiser: Organiser) -> None:
    _end_sessions(OrganiserSession.organiser_id == organiser.id)


def _end_sessions(which: ColumnElement[bool]) -> None:
    db.session.execute(
        update(OrganiserSession).where(which, OrganiserSession.ended_at.is_(None)).values(ended_at=now_utc())
    )


def attempt_login(email: str, password: str, ip_hash: str) -> Organiser | None:
    """An organiser's login: the organiser, or None for a wrong address or password or a locked
    account or network (one answer for all). Every attempt is recorded for the lockout."""
    key = login_key(email)
    organiser = None
    if not lockout.is_locked_out(key, ip_hash):
        organiser = authenticate(key, password)
    lockout.record_attempt(key, ip_hash, succeeded=organiser is not None)
    return organiser


def organiser_by_id(organiser_id: str) -> Organiser | None:
    """Flask-Login's loader: the organiser, only while the login named in the cookie is still live."""
    token = session.get(SESSION_KEY)
    try:
        wanted = int(organiser_id)
    except (TypeError, ValueError):
        return None
    if not isinstance(token, str):
        return None
    return db.session.execute(
        select(Organiser)
        .join(OrganiserSession, OrganiserSession.organiser_id == Organiser.id)
        .where(
            Organiser.id == wanted,
            OrganiserSession.token_hash == _token_hash(token),
            OrganiserSession.ended_at.is_(None),
        )
    ).scalar_one_or_none()
