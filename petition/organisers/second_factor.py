"""Organisers' second factor: time-based codes (TOTP, RFC 6238) from an authenticator app, and
single-use recovery codes for a lost phone. The rules, callable without HTTP.

A code is accepted for the current 30-second step or the one either side (clocks drift), and only
for a step later than the last one accepted, so a code seen over a shoulder cannot be used again.
Wrong codes count towards a lockout of their own: logging in with the password again does not
reset it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, update

from petition.db.transactions import rows_changed
from petition.extensions import db
from petition.organisers import lockout
from petition.organisers.models import Organiser, RecoveryCode

STEP_SECONDS = 30
RECOVERY_CODES = 10
ISSUER = "Open letter (organisers)"


def lockout_key(organiser: Organiser) -> str:
    """Code attempts are counted apart from password attempts (see the module's note)."""
    return f"code:{organiser.id}"


def new_secret() -> str:
    """A secret for one enrolment. It is kept in the enrolling browser's (signed) session and goes
    onto the account only when a code from it confirms it: a secret shown to someone who had only the
    password is never the one the owner later enrols with."""
    return pyotp.random_base32()


def provisioning_uri(organiser: Organiser, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=organiser.email, issuer_name=ISSUER)


def qr_svg(organiser: Organiser, secret: str) -> str:
    """The enrolment QR code, drawn by the site as inline SVG (no third party sees the secret)."""
    out = io.BytesIO()
    segno.make(provisioning_uri(organiser, secret), error="m").save(
        out, kind="svg", scale=5, border=4, dark="#000", light="#fff", xmldecl=False, svgns=True
    )
    return out.getvalue().decode("utf-8")


# The forms a code may take once normalised: six digits from the app, or a recovery code.
TOTP_CODE = re.compile(r"[0-9]{6}\Z")
CODE_OR_RECOVERY_CODE = re.compile(r"(?:[0-9]{6}|[0-9a-fA-F]{10})\Z")
_DASHES = {"\u2212"}  # the minus sign, besides Unicode's dashes (category Pd)


def normalise_code(typed: str | None) -> str:
    """A code as typed, in ASCII: input methods type full-width (１２３４５６) or Arabic-Indic
    (١٢٣٤٥٦) digits, phones add spaces, recovery codes have a hyphen. NFKC folds the full-width
    forms; any other digit becomes its ASCII digit; white space and dashes go. What is left must
    then match TOTP_CODE or CODE_OR_RECOVERY_CODE, ASCII only."""
    kept = []
    for ch in unicodedata.normalize("NFKC", typed or ""):
        if ch.isspace() or ch in _DASHES or unicodedata.category(ch) == "Pd":
            continue
        digit = unicodedata.digit(ch, None) if not ch.isascii() else None
        kept.append(str(digit) if digit is not None else ch)
    return "".join(kept)


def _matching_step(secret: str, code: str, after: int, now: datetime) -> int | None:
    """The time step, later than `after`, whose code from `secret` this is; None if none is."""
    if not TOTP_CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if step > after and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _accept_totp(organiser: Organiser, code: str, now: datetime) -> bool:
    if organiser.totp_secret is None:
        return False
    step = _matching_step(organiser.totp_secret, code, organiser.totp_last_step, now)
    if step is None:
        return False
    # Taken only if no other request took this step (or a later one) meanwhile.
    taken = rows_changed(
        update(Organiser)
        .where(Organiser.id == organiser.id, Organiser.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(organiser)
    return taken == 1


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.lower().encode()).hexdigest()


def _accept_recovery_code(organiser: Organiser, code: str, now: datetime) -> bool:
    if not re.fullmatch(r"[0-9a-fA-F]{10}", code):
        return False
    used = rows_changed(
        update(RecoveryCode)
        .where(
            RecoveryCode.organiser_id == organiser.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return used == 1


def check_code(organiser: Organiser, code: str, ip_hash: str, now: datetime) -> bool:
    """A login's second step: a code from the app or an unused recovery code. Every attempt counts
    for the lockout; while locked, even a right code is refused."""
    key = lockout_key(organiser)
    accepted = False
    if organiser.has_second_factor and not lockout.is_locked_out(key, ip_hash, now=now):
        code = normalise_code(code)
        accepted = _accept_totp(organiser, code, now) or _accept_recovery_code(organiser, code, now)
    lockout.record_attempt(key, ip_hash, succeeded=accepted)
    return accepted


def confirm_enrolment(organiser: Organiser, secret: str, code: str, ip_hash: str, now: datetime) -> list[str] | None:
    """The first code from the app proves it holds this enrolment's secret: the secret goes onto the
    account, the second factor is on from now, and here are its recovery codes (shown once, kept only
    as hashes). None for a wrong code, or when another enrolment of the account was confirmed first."""
    key = lockout_key(organiser)
    step = None
    if not lockout.is_locked_out(key, ip_hash, now=now):
        step = _matching_step(secret, normalise_code(code), organiser.totp_last_step, now)
    accepted = step is not None and (
        rows_changed(
            update(Organiser)
            .where(Organiser.id == organiser.id, Organiser.totp_enrolled_at.is_(None))
            .values(totp_secret=secret, totp_enrolled_at=now, totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        == 1
    )
    db.session.refresh(organiser)
    lockout.record_attempt(key, ip_hash, succeeded=accepted)
    if not accepted:
        return None
    return new_recovery_codes(organiser)


def new_recovery_codes(organiser: Organiser) -> list[str]:
    """Ten fresh codes; any earlier ones stop working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(organiser_id=organiser.id, code_hash=_code_hash(code)) for code in codes)
    db.session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def reset(organiser: Organiser) -> None:
    """Forget the second factor (a lost phone and no recovery code): the next login enrols afresh."""
    organiser.totp_secret = None
    organiser.totp_enrolled_at = None
    organiser.totp_last_step = 0
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    db.session.flush()
