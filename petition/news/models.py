"""News updates in both languages (their emailing is a mailing: mail/models.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from petition.db.types import NEVER_REUSE_IDS, UTCDateTime, now_utc
from petition.extensions import Model


class Update(Model):
    """News about the letter, in both languages, shown on the letter page and in the Atom feeds."""

    __tablename__ = "updates"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    published_on: Mapped[date] = mapped_column(Date)
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200))
    body_en: Mapped[str] = mapped_column(Text)
    body_zh: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def title(self, language: str) -> str:
        return self.title_zh if language == "zh" else self.title_en

    def body(self, language: str) -> str:
        return self.body_zh if language == "zh" else self.body_en
