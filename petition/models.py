"""Database tables. The schema itself enforces the rules: lengths, choices, uniqueness."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    bindparam,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from . import lifecycle
from .addresses import domain_hash, email_hash, mailbox_hash
from .extensions import Model
from .locales import SUPPORTED
from .sealing import Sealed

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import BindParameter, ColumnElement, Dialect
    from sqlalchemy.engine.default import DefaultExecutionContext

    from .lifecycle import Review

NAME_MAX = 200
AFFILIATION_MAX = 300
EMAIL_MAX = 254  # RFC 5321's limit on a forward path


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_secret() -> str:
    return secrets.token_urlsafe(16)


def _from_email(derive: Callable[[str], str], column: str = "email") -> Callable[[DefaultExecutionContext], str | None]:
    """A column default worked out from the row's address (plain, before it is sealed), whoever
    inserts it."""

    def default(context: DefaultExecutionContext) -> str | None:
        email = context.get_current_parameters().get(column)
        return derive(email) if email else None

    return default


def _from_address(derive: Callable[[str], str]) -> Callable[[DefaultExecutionContext], str | None]:
    return _from_email(derive, "to_address")


class UTCDateTime(TypeDecorator):
    """Stores UTC and always gives back an aware datetime, on SQLite too (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# On SQLite, a deleted row's id would otherwise go to the next row: "signature #15" in the audit log
# must mean one signature for ever. (PostgreSQL's sequences never reuse an id.)
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
AWAITING_LISTING_SQL = f"listing_review IN ({lifecycle.sql_list(lifecycle.AWAITING_LISTING)})"


class SignatoryGroup(Model):
    """A group of signatories, counted and listed separately (international scholars, Chinese
    scholars, ...). The one definition of the groups: the forms, counts, list, API, export and
    dashboard all read it. Add one with `flask --app wsgi groups add`."""

    __tablename__ = "signatory_groups"
    __table_args__ = (CheckConstraint("key <> '' AND key = lower(key)", name="key_plain"),)

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)
    label_en: Mapped[str] = mapped_column(String(100))
    label_zh: Mapped[str] = mapped_column(String(100))
    plural_en: Mapped[str] = mapped_column(String(100))
    plural_zh: Mapped[str] = mapped_column(String(100))


class Signature(Model):
    """One scholar's signature. It counts (visible) only once confirmed, and not while hidden by
    the organisers or suspected of coming from a bot; the database keeps `visible` honest."""

    __tablename__ = "signatures"
    __table_args__ = (
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
        CheckConstraint(f"length(affiliation) BETWEEN 1 AND {AFFILIATION_MAX}", name="affiliation_length"),
        # The address is sealed (sealing.py): one address signs once by its keyed hash, unique below.
        CheckConstraint(f"status IN ({lifecycle.sql_list(lifecycle.Status)})", name="status_known"),
        CheckConstraint(f"language IN ({lifecycle.sql_list(SUPPORTED)})", name="language_known"),
        CheckConstraint("visible = (status = 'confirmed' AND NOT hidden AND NOT suspected_bot)", name="visible_rule"),
        CheckConstraint(
            f"listing_review IN ({lifecycle.sql_list(lifecycle.ListingReview)})", name="listing_review_known"
        ),
        # The public list and the counts: visible rows by group, walked by id.
        Index("ix_signatures_visible_listed_group_id", "visible", "listed", "signatory_group", "id"),
        Index("ix_signatures_visible_listed_id", "visible", "listed", "id"),
        # The names kept off the list, counted on every list page: only those rows, so the count
        # reads a handful of entries, not every listed signature (0.3 s at a million), and a new
        # signature (not under review) writes nothing here.
        Index(
            "ix_signatures_awaiting_listing",
            "visible",
            "listed",
            "signatory_group",
            # Named too, so the query's every term matches the index and SQLite, with no statistics,
            # never prefers the wider index of listed rows (it did once the table was rebuilt).
            "listing_review",
            sqlite_where=text(AWAITING_LISTING_SQL),
            postgresql_where=text(AWAITING_LISTING_SQL),
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    affiliation: Mapped[str] = mapped_column(String(AFFILIATION_MAX))
    # Sealed under ADDRESS_KEY (the database holds no address in clear; the code reads it plain).
    # NULL once erased (`privacy purge`, some time after the letter closed); email_hash stays.
    email: Mapped[str | None] = mapped_column(Sealed())
    # A keyed hash of the address, unique: one address signs once, and an erased one still cannot
    # sign twice. Finding a signature by its address goes through it.
    email_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=_from_email(email_hash))
    # A keyed hash of the mailbox the address reaches (addresses.mailbox_hash), for spotting one
    # person signing twice under two spellings.
    email_key: Mapped[str | None] = mapped_column(String(64), index=True, default=_from_email(mailbox_hash))
    # A keyed hash of the address's domain (addresses.domain_hash), for hiding many by domain.
    email_domain_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=_from_email(domain_hash))
    email_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "group" is a reserved word in SQL; the attribute keeps the plain name.
    group: Mapped[str] = mapped_column("signatory_group", String(20), ForeignKey("signatory_groups.key"))
    listed: Mapped[bool] = mapped_column(default=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    status: Mapped[str] = mapped_column(String(20), default=lifecycle.Status.PENDING.value)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden: Mapped[bool] = mapped_column(default=False)
    suspected_bot: Mapped[bool] = mapped_column(default=False)
    visible: Mapped[bool] = mapped_column(default=False)
    # Part of every emailed link: a link stops working when its signature is withdrawn.
    secret: Mapped[str] = mapped_column(String(32), default=new_secret)
    # A keyed hash of the address it was sent from, for abuse analysis; purged after a while.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    # The language the signer used: every email to them is in it.
    language: Mapped[str] = mapped_column(String(10), default="en")
    # Seconds between the form being shown and sent back (None: unknown). Autofill can make a person
    # fast, so this never flags a signature by itself; organisers see it beside the others.
    fill_seconds: Mapped[float | None] = mapped_column(Float)
    # The version of the letter its signer saw (None before the first was published).
    letter_version: Mapped[int | None] = mapped_column(ForeignKey("letter_versions.number"))
    # Ticked "Email me news about this letter"; unticked by default, cleared by unsubscribing.
    wants_updates: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Whether organisers must approve the name before it is listed (LIST_REVIEW): counted meanwhile.
    listing_review: Mapped[str] = mapped_column(
        String(10), default=lifecycle.ListingReview.NONE.value, server_default=lifecycle.ListingReview.NONE.value
    )
    # When a delivery status report said an email the site sent to this address failed (inbound.bounces).
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # What a signature's state means, each defined once (lifecycle.py), in Python and in SQL.
    @hybrid_property
    def counted(self) -> bool:
        """Confirmed, not hidden, not flagged: in the counts."""
        return lifecycle.counts(self.status, self.hidden, self.suspected_bot)

    @counted.inplace.expression
    @classmethod
    def _counted_sql(cls) -> ColumnElement[bool]:
        return cls.visible.is_(True)

    @hybrid_property
    def listed_publicly(self) -> bool:
        """Counted, its signer asked to be named, and not held for review: on the public list."""
        return self.counted and self.listed and self.listing_review in lifecycle.LISTABLE

    @listed_publicly.inplace.expression
    @classmethod
    def _listed_publicly_sql(cls) -> ColumnElement[bool]:
        return and_(cls.visible.is_(True), cls.listed.is_(True), cls.listing_review.in_(lifecycle.LISTABLE))

    @hybrid_property
    def awaiting_listing(self) -> bool:
        """Counted and asked to be named, but not listed: under review, or declined."""
        return self.counted and self.listed and self.listing_review not in lifecycle.LISTABLE

    @awaiting_listing.inplace.expression
    @classmethod
    def _awaiting_listing_sql(cls) -> ColumnElement[bool]:
        # The reviews written into the statement as the index's condition says them, so that SQLite
        # sees the partial index ix_signatures_awaiting_listing applies (it does not for parameters).
        awaiting = list(lifecycle.AWAITING_LISTING)
        reviews: BindParameter[list[str]] = bindparam(
            "awaiting_listing", awaiting, expanding=True, literal_execute=True
        )
        return and_(cls.visible.is_(True), cls.listed.is_(True), cls.listing_review.in_(reviews))

    @hybrid_property
    def review_status(self) -> Review:
        """What organisers see: flagged, hidden, pending or confirmed (a lifecycle.Review)."""
        return lifecycle.review_of(self.status, self.hidden, self.suspected_bot)

    @review_status.inplace.expression
    @classmethod
    def _review_status_sql(cls) -> ColumnElement[str]:
        return lifecycle.review_sql(cls)

    @property
    def is_confirmed(self) -> bool:
        return self.status == lifecycle.Status.CONFIRMED

    def __repr__(self) -> str:
        return f"<Signature {self.id} {self.group} {self.status}>"


COUNTER_SHARDS = 16


class SignatureCount(Model):
    """Running counts of visible signatures per group and listing, kept by database triggers.

    Each (group, listed) pair has several shard rows and a trigger adds to a random one, so
    concurrent confirmations on PostgreSQL do not queue on one hot row; a count is the sum of its
    shards. `flask counts reconcile` checks them against the signatures table.
    """

    __tablename__ = "signature_counts"

    group: Mapped[str] = mapped_column("signatory_group", String(20), primary_key=True)
    listed: Mapped[bool] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0)


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
    # Which of signer_emails.SIGNER_EMAILS this is, written by the worker just before sending, in the
    # signer's language, with links dated when it was queued; NULL for emails queued written (news).
    template: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    # When the worker may next try; claiming an email pushes it forward, so it doubles as a lease.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    # News about the letter: which update it carries (one email per update and signer, the unique
    # constraint says), and its one-click unsubscribe address (RFC 8058).
    update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"))
    # A notice that the letter changed: which version (one per version and signer).
    version_notice: Mapped[int | None] = mapped_column(ForeignKey("letter_versions.number"))
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    # What a signing on the form gave (a row whose template is signer_emails.SIGNED): the worker reads
    # it when the signing replaces an unconfirmed signature's details, and clears it once it has
    # decided which email the row is. Read only then (deferred), so loading an email never reads it.
    signing_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)


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
    # Set when publishing chose to tell the signers of earlier versions; the mail worker queues the
    # notices in batches, in signature order, remembering the last one queued.
    mail_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mailed_up_to: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    def text(self, language: str) -> str:
        return self.text_zh if language == "zh" else self.text_en

    def sha256(self, language: str) -> str:
        return self.sha256_zh if language == "zh" else self.sha256_en


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
    # Set when organisers chose to email it: the mail worker queues it to subscribers in batches,
    # in signature order, remembering the last one queued.
    mail_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mailed_up_to: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    def title(self, language: str) -> str:
        return self.title_zh if language == "zh" else self.title_en

    def body(self, language: str) -> str:
        return self.body_zh if language == "zh" else self.body_en


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


class LetterState(Model):
    """The letter as a whole: one row. closed_at is set when organisers close signing by hand
    (`flask letter close`); the scheduled closing (SIGNING_CLOSES_AT) is configuration."""

    __tablename__ = "letter_state"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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


INBOUND_OUTCOMES = ("handled", "failed", "too_large")


class InboundMessage(Model):
    """A message read from the site's mailbox (`flask mail fetch`, inbound_imap.py): recorded in the
    transaction that handles it, before it leaves the mailbox, so a run stopped in between never
    handles it twice. Its key is the mailbox's, the folder's UIDVALIDITY and the message's UID (both
    unsigned 32-bit numbers in IMAP, hence BigInteger). Nothing from the message itself is kept here:
    `error` is only the kind of exception a failed message raised (the log has the rest)."""

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


# Rules the database keeps with triggers, which the models cannot declare: the counters, an audit
# log that refuses changes, and (SQLite) the search index. The migrations create them; a test checks
# they are all there.
TRIGGERS = {
    "sqlite": {
        "signature_counts_insert",
        "signature_counts_delete",
        "signature_counts_update",
        "signature_search_insert",
        "signature_search_delete",
        "signature_search_update",
        "audit_log_no_update",
        "audit_log_no_delete",
    },
    "postgresql": {
        "signature_counts_insert",
        "signature_counts_delete",
        "signature_counts_update",
        "audit_log_no_update",
        "audit_log_no_delete",
        "audit_log_no_truncate",
    },
}

# The words of every signature's name and affiliation, for the organisers' search (migration 0021,
# petition/organisers/search.py): on SQLite an FTS5 table of this name (with its shadow tables
# signature_search_*), on PostgreSQL a GIN index. Neither is a table the models describe.
SEARCH_INDEX = {"sqlite": "signature_search", "postgresql": "ix_signatures_search"}
