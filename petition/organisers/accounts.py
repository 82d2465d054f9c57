"""Organiser accounts: creating them, their roles, checking their passwords, and their login sessions.

A session ends when its organiser logs out (here or everywhere), changes the password, is disabled,
or after ORGANISER_IDLE_MINUTES without a request or ORGANISER_SESSION_HOURS in all. A half-made
login (the password accepted, the code still to come) ends with the account's sessions too.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app, g, session
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from petition.db.transactions import writing_from_here
from petition.db.types import now_utc
from petition.extensions import db
from petition.organisers import audit, lockout, second_factor
from petition.organisers.models import ROLES, Organiser, OrganiserSession
from petition.signatures.models import EMAIL_MAX
from petition.web.text import normalise_email, tidy

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


def clock() -> datetime:
    """Now, unless the tests set ORGANISER_CLOCK to see an hour pass in an instant."""
    injected = current_app.config.get("ORGANISER_CLOCK")
    return injected() if injected else now_utc()


# Changes made from the command line are recorded as the account's own, with this reason.
BY_COMMAND_LINE = "from the command line"


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.")


def create_organiser(email: str, password: str, role: str = "admin") -> Organiser:
    _check_password_length(password)
    _check_role(role)
    organiser = Organiser(email=normalise_email(email), password_hash=generate_password_hash(password), role=role)
    try:
        with db.session.begin_nested():  # a savepoint: a taken address undoes only this insert
            db.session.add(organiser)
    except IntegrityError:
        raise AccountError(f"An organiser with the address {organiser.email} already exists.") from None
    audit.record(organiser, "create-account", _describe(organiser), BY_COMMAND_LINE)
    return organiser


def _describe(organiser: Organiser) -> str:
    return f"organiser {organiser.email} ({organiser.role})"


def all_organisers() -> list[Organiser]:
    return list(db.session.execute(select(Organiser).order_by(Organiser.email)).scalars())


def set_role(email: str, role: str, by: Organiser | None = None) -> Organiser:
    _check_role(role)
    organiser = organiser_by_email(email)
    organiser.role = role
    audit.record(by or organiser, "set-role", _describe(organiser), "" if by else BY_COMMAND_LINE)
    db.session.flush()
    return organiser


def disable(email: str, by: Organiser | None = None) -> Organiser:
    """The account can no longer log in and every session of it ends; its row stays for the audit log."""
    organiser = organiser_by_email(email)
    organiser.disabled_at = organiser.disabled_at or now_utc()
    end_every_session(organiser)
    audit.record(by or organiser, "disable-account", _describe(organiser), "" if by else BY_COMMAND_LINE)
    db.session.flush()
    return organiser


def reset_second_factor(email: str) -> Organiser:
    """A lost phone: forget the second factor and end the account's sessions; the next login enrols anew."""
    organiser = organiser_by_email(email)
    second_factor.reset(organiser)
    end_every_session(organiser)
    audit.record(organiser, "reset-2fa", _describe(organiser), BY_COMMAND_LINE)
    db.session.flush()
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
    audit.record(organiser, "change-password", _describe(organiser), BY_COMMAND_LINE)
    db.session.flush()
    return organiser


class TooManyAttempts(AccountError):
    pass


def change_own_password(organiser: Organiser, current: str, new: str, ip_hash: str) -> bool:
    """An organiser changes their password on the site: the current one must be right. Every other
    session of the account ends (this one stays). False when the current password is wrong.

    Each try counts with the account's logins for the lockout, so a session in other hands cannot
    guess the password here any faster than at the login page: while the account or the network is
    locked, even the right password raises TooManyAttempts."""
    key = login_key(organiser.email)
    if lockout.is_locked_out(key, ip_hash):
        raise TooManyAttempts("There have been too many wrong passwords for this account.")
    right = check_password_hash(organiser.password_hash, current)
    lockout.record_attempt(key, ip_hash, succeeded=right)
    if not right:
        return False
    _check_password_length(new)
    organiser.password_hash = generate_password_hash(new)
    _end_sessions(OrganiserSession.organiser_id == organiser.id, OrganiserSession.token_hash != _current_token_hash())
    audit.record(organiser, "change-password", _describe(organiser))
    db.session.flush()
    return True


def log_out_everywhere(organiser: Organiser) -> None:
    end_every_session(organiser)
    audit.record(organiser, "logout-everywhere", _describe(organiser))
    db.session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current_token_hash() -> str:
    token = session.get(SESSION_KEY)
    return _token_hash(token) if isinstance(token, str) else ""


def start_session(organiser: Organiser) -> None:
    """Record a new login and put its token in the (signed) session cookie."""
    token = secrets.token_urlsafe(32)
    now = clock()
    db.session.add(
        OrganiserSession(organiser_id=organiser.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now)
    )
    db.session.flush()
    session[SESSION_KEY] = token


def _pending_hash(token: str) -> str:
    # Hashed apart from a login's token: a half-made login's token never opens anything as a login.
    return _token_hash("pending-login:" + token)


def start_pending_login(organiser: Organiser) -> str:
    """A password accepted, a code still to come: recorded beside the account's logins, so whatever
    ends every session of the account (a new password, logging out everywhere, disabling it,
    resetting its second factor) ends this too. The token goes into the (signed) session cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(OrganiserSession(organiser_id=organiser.id, token_hash=_pending_hash(token), created_at=clock()))
    db.session.flush()
    return token


def pending_login_is_live(organiser: Organiser, token: str) -> bool:
    return (
        db.session.execute(
            select(OrganiserSession.id).where(
                OrganiserSession.organiser_id == organiser.id,
                OrganiserSession.token_hash == _pending_hash(token),
                OrganiserSession.ended_at.is_(None),
            )
        ).first()
        is not None
    )


def end_pending_login(token: str) -> None:
    _end_sessions(OrganiserSession.token_hash == _pending_hash(token))


def end_session() -> None:
    """Logging out ends this login for every copy of the cookie, not just the browser's own."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        _end_sessions(OrganiserSession.token_hash == _token_hash(token))
        db.session.flush()


def end_every_session(organiser: Organiser) -> None:
    _end_sessions(OrganiserSession.organiser_id == organiser.id)


def _end_sessions(*which: ColumnElement[bool]) -> None:
    db.session.execute(
        update(OrganiserSession).where(*which, OrganiserSession.ended_at.is_(None)).values(ended_at=now_utc())
    )


def attempt_login(email: str, password: str, ip_hash: str) -> Organiser | None:
    """An organiser's login: the organiser, or None for a wrong address or password, a disabled
    account or a locked account or network (one answer for all). Every attempt is recorded for the
    lockout."""
    key = login_key(email)
    organiser = None
    if not lockout.is_locked_out(key, ip_hash):
        organiser = authenticate(key, password)
        if organiser is not None and not organiser.is_active:
            organiser = None
    lockout.record_attempt(key, ip_hash, succeeded=organiser is not None)
    return organiser


# The last-seen time is written at most this often: an organiser's page views are not each a write.
SEEN_RESOLUTION = timedelta(minutes=1)


def organiser_by_id(organiser_id: str) -> Organiser | None:
    """Flask-Login's loader: the organiser, only while the login named in the cookie is live: not
    ended, not idle too long, not too old, and the account not disabled. A login found expired is
    ended, and g.session_expired tells the login page to say why."""
    token = session.get(SESSION_KEY)
    try:
        wanted = int(organiser_id)
    except (TypeError, ValueError):
        return None
    if not isinstance(token, str):
        return None
    row = db.session.execute(
        select(Organiser, OrganiserSession)
        .join(OrganiserSession, OrganiserSession.organiser_id == Organiser.id)
        .where(
            Organiser.id == wanted,
            Organiser.disabled_at.is_(None),
            OrganiserSession.token_hash == _token_hash(token),
            OrganiserSession.ended_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    organiser, login = row
    now = clock()
    config = current_app.config
    idle = now - (login.last_seen_at or login.created_at) > timedelta(minutes=config["ORGANISER_IDLE_MINUTES"])
    too_old = now - login.created_at > timedelta(hours=config["ORGANISER_SESSION_HOURS"])
    if idle or too_old:
        writing_from_here()  # an organiser's page reads; recording this needs the write lock
        login.ended_at = now
        g.session_expired = True
        return None
    if login.last_seen_at is None or now - login.last_seen_at >= SEEN_RESOLUTION:
        writing_from_here()  # at most once a minute per login
        login.last_seen_at = now
    return organiser
