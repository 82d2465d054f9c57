"""Organiser accounts, their login sessions and recovery codes, login attempts, and the audit log."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from petition.db.types import NEVER_REUSE_IDS, UTCDateTime, now_utc
from petition.extensions import Model
from petition.signatures import lifecycle
from petition.signatures.models import EMAIL_MAX


class AuditEntry(Model):
    """What an organiser did, when and why. Rows are only ever added: the database refuses to update
    or delete them."""

    __tablename__ = "audit_log"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id"))
    organiser_email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500), default="")


class LoginAttempt(Model):
    """Recent organiser logins, for the lockout (per account and per address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), index=True)
    ip_hash: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)


ROLES = ("viewer", "moderator", "admin")


class Organiser(UserMixin, Model):
    """An organiser's account: what it may do (its role), and its second factor once enrolled."""

    __tablename__ = "organisers"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint(f"role IN ({lifecycle.sql_list(ROLES)})", name="role_known"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    role: Mapped[str] = mapped_column(String(20), default="admin", server_default="admin")
    # A disabled account cannot log in and its sessions are ended; the row stays for the audit log.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP (RFC 6238): the secret is set only when a code from it confirms an enrolment.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The time step of the last code accepted: a code is taken only for a later step, so an
    # overheard code cannot be used again.
    totp_last_step: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account is logged out
        return self.disabled_at is None

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enrolled_at is not None


class RecoveryCode(Model):
    """A single-use code that stands in for the authenticator app; only its hash is kept."""

    __tablename__ = "organiser_recovery_codes"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrganiserSession(Model):
    """One login. The session cookie carries its token; logging out or changing the password ends the
    row, so a copy of the cookie taken before then opens nothing. Only a hash of the token is kept."""

    __tablename__ = "organiser_sessions"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The organiser's last request in it, for the idle timeout (kept to the minute: not a write per page).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
