"""The signatures table and its companions (the groups, the sharded counters). The schema itself
enforces the rules: lengths, choices, uniqueness, and the counts through triggers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    and_,
    bindparam,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from petition.db.types import NEVER_REUSE_IDS, UTCDateTime, _from_email, new_secret, now_utc
from petition.extensions import Model
from petition.privacy.addresses import domain_hash, email_hash, mailbox_hash
from petition.privacy.sealing import Sealed
from petition.signatures import lifecycle
from petition.web.locales import SUPPORTED

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, ColumnElement

    from petition.signatures.lifecycle import Review

NAME_MAX = 200


AFFILIATION_MAX = 300


EMAIL_MAX = 254  # RFC 5321's limit on a forward path


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


# The words of every signature's name and affiliation, and each CJK character and pair of adjacent
# ones, for the organisers' search (migrations 0022 and 0028, petition/organisers/search.py): on SQLite
# an FTS5 table of this name (with its shadow tables signature_search_*, the view signature_search_text
# it reads and the table signature_search_positions that view counts with), on PostgreSQL a GIN index of
# the words and one (ix_signatures_search_cjk) on the function signature_search_cjk. None is a table
# the models describe.
SEARCH_INDEX = {"sqlite": "signature_search", "postgresql": "ix_signatures_search"}
