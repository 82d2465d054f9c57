"""The outbox table: every email the site sends is a row, written with the change that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from petition.db.types import NEVER_REUSE_IDS, UTCDateTime, _from_address, now_utc
from petition.extensions import Model
from petition.privacy.addresses import email_hash
from petition.privacy.sealing import Sealed

# The signer emails that carry the confirmation code (templates/emails/_code.txt): the code page and
# a reply read the date of the latest, and a reply to one reaches signing by email (its Reply-To).
CARRYING_THE_CODE = ("confirm", "already_pending")

UNSENT = "sent_at IS NULL AND failed_at IS NULL"


class OutgoingEmail(Model):
    """The outbox: written in the same transaction as the change that causes it, sent by the worker."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (
        # The worker's poll walks only the mail still to send: sent and failed rows stay until the
        # purge, and without the condition every poll would step over all of them.
        Index(
            "ix_outgoing_emails_due", "next_attempt_at", "id", sqlite_where=text(UNSENT), postgresql_where=text(UNSENT)
        ),
        # One email per update and signer, one notice per version and signer. Only rows with an
        # update (a version) are indexed: a signer email has neither and never clashes, and indexing
        # it would cost each new signature two more index writes.
        *(
            Index(
                f"uq_outgoing_emails_{name}_signature",
                column,
                "signature_id",
                unique=True,
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for name, column in (("update", "update_id"), ("version", "version_notice"))
        ),
        # Written, or to be written by the worker (a signer email), or erased (its address and text).
        CheckConstraint(
            "template IS NOT NULL OR to_address IS NULL OR (subject IS NOT NULL AND body IS NOT NULL)",
            name="written_to_write_or_erased",
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"), index=True)
    # Sealed, as the signature's address is; NULL once erased (privacy.erase_from_outbox), with its text.
    to_address: Mapped[str | None] = mapped_column(Sealed())
    # A keyed hash of to_address (addresses.email_hash): the rows to one address, found without it.
    to_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=_from_address(email_hash))
    # Empty until written: a signer's email (see `template`) is written when it is sent.
    subject: Mapped[str | None] = mapped_column(String(300))
    # Sealed too: it holds the signer's private links.
    body: Mapped[str | None] = mapped_column(Sealed())
    # Which email this is (one of signer_emails.SIGNER_EMAILS, or a mailing's: "update",
    # "letter_changed"), written by the worker just before sending (mailings.write_waiting), in the
    # signer's language; NULL for an email queued written (a test's, or one queued before 0026).
    template: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    # When the worker may next try; claiming an email pushes it forward, so it doubles as a lease.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    # News about the letter: which update it carries (one email per update and signer, the unique
    # constraint says), and its one-click unsubscribe address (RFC 8058), written with the email.
    update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"))
    # A notice that the letter changed: which version (one per version and signer).
    version_notice: Mapped[int | None] = mapped_column(ForeignKey("letter_versions.number"))
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    # What a signing on the form gave (a row whose template is signer_emails.SIGNED): the worker reads
    # it when the signing replaces an unconfirmed signature's details, and clears it once it has
    # decided which email the row is. Read only then (deferred), so loading an email never reads it.
    signing_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)


class Mailing(Model):
    """One email to many signers (news, a notice that the letter changed), queued by the mail worker in
    batches, in signature order, remembering the last signature queued. A row exists once organisers
    asked for the emails; at most one per update and one per version."""

    __tablename__ = "mailings"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'update' AND update_id IS NOT NULL AND version_number IS NULL)"
            " OR (kind = 'version' AND version_number IS NOT NULL AND update_id IS NULL)",
            name="kind_names_its_subject",
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"), unique=True)
    version_number: Mapped[int | None] = mapped_column(ForeignKey("letter_versions.number"), unique=True)
    mail_requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    # The id of the last signature queued: the next batch starts after it.
    mailed_up_to: Mapped[int] = mapped_column(default=0, server_default=text("0"))
