"""The letter's published versions, and its state (whether signing was closed by hand)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from petition.db.types import UTCDateTime, now_utc
from petition.extensions import Model


class LetterVersion(Model):
    """A published text of the letter, in both languages. The site shows the newest; each signature
    records the one its signer saw. Rows are only added (`flask letter publish`)."""

    __tablename__ = "letter_versions"

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    reason: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(Text)
    text_zh: Mapped[str] = mapped_column(Text)
    sha256_en: Mapped[str] = mapped_column(String(64))
    sha256_zh: Mapped[str] = mapped_column(String(64))

    def text(self, language: str) -> str:
        return self.text_zh if language == "zh" else self.text_en

    def sha256(self, language: str) -> str:
        return self.sha256_zh if language == "zh" else self.sha256_en


class LetterState(Model):
    """The letter as a whole: one row. closed_at is set when organisers close signing by hand
    (`flask letter close`); the scheduled closing (SIGNING_CLOSES_AT) is configuration."""

    __tablename__ = "letter_state"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
