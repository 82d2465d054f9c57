"""Delivery copies: the jobs that make them, and the finished files, kept while the list and letter
are unchanged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from petition.db.types import NEVER_REUSE_IDS, UTCDateTime, now_utc
from petition.extensions import Model
from petition.signatures import lifecycle
from petition.signatures.models import EMAIL_MAX
from petition.web.locales import SUPPORTED

DELIVERY_JOB_STATES = ("queued", "making", "done", "failed")


class DeliveryFile(Model):
    """A delivery copy as made: the PDF and what it was made from. One per language and content
    (`content_key`: the list's and the letter's fingerprints and the cover's settings), so a copy
    asked for again while nothing changed is not made again. Kept in the database, which every
    instance of the site shares; a newer copy in the same language drops the older one's PDF and
    keeps its row (what it was, its file's SHA-256)."""

    __tablename__ = "delivery_files"
    __table_args__ = (
        CheckConstraint(f"language IN ({lifecycle.sql_list(SUPPORTED)})", name="language_known"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(5))
    content_key: Mapped[str] = mapped_column(String(64), unique=True)
    list_sha256: Mapped[str] = mapped_column(String(64))
    letter_sha256: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    names: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64))  # of the PDF file itself
    # Loaded only when downloaded; NULL once a newer copy in the language replaced it.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class DeliveryJob(Model):
    """An organiser's request for a delivery copy, made by the mail worker (or `flask delivery pdf`)
    and never by a web request. Claimed like an email in the outbox: `next_attempt_at` is when a
    worker may take it, pushed forward while one makes it (a lease), so a worker that dies leaves it
    to be taken up again."""

    __tablename__ = "delivery_jobs"
    __table_args__ = (
        CheckConstraint(f"language IN ({lifecycle.sql_list(SUPPORTED)})", name="language_known"),
        CheckConstraint(f"state IN ({lifecycle.sql_list(DELIVERY_JOB_STATES)})", name="state_known"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(5))
    state: Mapped[str] = mapped_column(String(10), default="queued")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    requested_by: Mapped[str] = mapped_column(String(EMAIL_MAX))  # an organiser's address, or "command line"
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    names_done: Mapped[int] = mapped_column(default=0)
    names_total: Mapped[int | None] = mapped_column()
    file_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_files.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(String(500))
