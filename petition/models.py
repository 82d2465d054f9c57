"""Database tables. The schema itself enforces the rules: lengths, choices, uniqueness."""
from datetime import datetime, timezone

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, Index, String, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .groups import GROUPS

NAME_MAX = 200
AFFILIATION_MAX = 300
EMAIL_MAX = 254  # RFC 5321's limit on a forward path


def now_utc():
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores UTC and always gives back an aware datetime, on SQLite too (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


_group_list = ", ".join(f"'{g}'" for g in GROUPS)


class Signature(db.Model):
    __tablename__ = "signatures"
    __table_args__ = (
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
        CheckConstraint(f"length(affiliation) BETWEEN 1 AND {AFFILIATION_MAX}", name="affiliation_length"),
        CheckConstraint(f"length(email) BETWEEN 3 AND {EMAIL_MAX}", name="email_length"),
        # One address signs once: stored trimmed and lower-cased, so the constraint compares that.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint(f"signatory_group IN ({_group_list})", name="signatory_group_known"),
        # The public list: filter by group, walk by id.
        Index("ix_signatures_listed_group_id", "listed", "signatory_group", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    affiliation: Mapped[str] = mapped_column(String(AFFILIATION_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    # "group" is a reserved word in SQL; the attribute keeps the plain name.
    group: Mapped[str] = mapped_column("signatory_group", String(20))
    listed: Mapped[bool] = mapped_column(default=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    def __repr__(self):
        return f"<Signature {self.id} {self.group}>"


class Organiser(UserMixin, db.Model):
    __tablename__ = "organisers"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
