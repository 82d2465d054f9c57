"""The messages `flask mail fetch` took from the mailbox, by mailbox, UIDVALIDITY and UID, so none is
handled twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from petition.db.types import NEVER_REUSE_IDS, UTCDateTime, now_utc
from petition.extensions import Model
from petition.signatures import lifecycle

INBOUND_OUTCOMES = ("handled", "unhandled", "failed", "too_large")


class InboundMessage(Model):
    """A message read from the site's mailbox (`flask mail fetch`, inbound/imap.py): recorded in the
    transaction that handles it, before it leaves the mailbox, so a run stopped in between never
    handles it twice. Its key is the mailbox's, the folder's UIDVALIDITY and the message's UID (both
    unsigned 32-bit numbers in IMAP, hence BigInteger). Nothing from the message itself is kept here:
    `error` is only the kind of exception a failed message raised (the log has the rest). `outcome`
    says where the message went: handled (deleted), unhandled (a person's message the site did not
    act on, moved for the organisers), failed or too_large (moved to the Failed folder)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uid_validity", "uid", name="uq_inbound_messages_key"),
        CheckConstraint(f"outcome IN ({lifecycle.sql_list(INBOUND_OUTCOMES)})", name="outcome_known"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300))  # user@host/folder
    uid_validity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    size: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(String(100))
