"""Signing the letter and everything a signer can do afterwards: the rules, callable without HTTP."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Insert, Table, bindparam, delete, select, true, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached

from petition.db.types import new_secret, now_utc
from petition.db.writers_queue import driver_statement, own_statement, own_transaction
from petition.extensions import db
from petition.letter import closing, versions
from petition.letter.models import LetterState
from petition.mail.models import OutgoingEmail
from petition.mail.outbox import queue_row
from petition.mail.signer_emails import (
    asked_again_row,
    queue_already_signed,
    queue_confirmation,
    signing_row,
    with_base,
)
from petition.privacy.addresses import domain_hash, email_hash, mailbox_hash
from petition.signatures import lifecycle, listing
from petition.signatures.models import Signature
from petition.web.text import normalise_email, tidy

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True)
class SignOutcome:
    signature: Signature
    created: bool  # False when this address had already signed; nothing was added
    replaced: bool = False  # an unconfirmed signature from this address took these new details


def sign(**form: Any) -> SignOutcome:
    """Add a pending signature and queue its confirmation email, in one transaction. Takes what
    new_signing takes.

    The unique constraint on the address decides what happens when the address is taken, so two
    simultaneous attempts cannot both win. If its signature is confirmed, nothing is added and the
    owner is told by email (never on the page, so the form cannot be used to learn who signed).
    If it is not confirmed, nobody has shown they own the address yet: see replace_unconfirmed.
    A suspected bot's signature (the honeypot) is stored for review but never emailed, counted or
    listed. `fill_seconds` (how long the form took) is kept for organisers; on its own it flags nothing.
    Raises SigningClosed once the letter is closed: nothing is added and nothing is sent.
    """
    address, details, signed_at = new_signing(**form)
    signature = Signature(**signature_values(address, details, signed_at))
    versions.publish_first()
    existing = insert_or_find_taken(signature)
    if existing is not None:
        if not existing.is_confirmed:
            return replace_unconfirmed(existing, {**details, "letter_version": versions.current_number()})
        if not signature.suspected_bot:
            queue_already_signed(existing, to=address)
        db.session.flush()
        return SignOutcome(existing, created=False)
    if not signature.suspected_bot:
        queue_confirmation(signature)
    db.session.flush()
    return SignOutcome(signature, created=True)


# What a signer gives, besides the address: kept with a signing on the form until the worker settles it.
DETAILS = (
    "name",
    "affiliation",
    "group",
    "listed",
    "wants_updates",
    "ip_hash",
    "suspected_bot",
    "language",
    "fill_seconds",
)


def new_signing(
    *,
    name: str,
    affiliation: str,
    email: str,
    group: str,
    listed: bool = True,
    wants_updates: bool = False,
    ip_hash: str | None = None,
    suspected_bot: bool = False,
    language: str = "en",
    fill_seconds: float | None = None,
) -> tuple[str, dict[str, Any], datetime]:
    """What a signer gave: the address as it is stored, the details that a signing again with it
    would replace (tidied), and the moment. Raises SigningClosed once SIGNING_CLOSES_AT has passed
    (the closing by hand is read where the signing is written)."""
    if closing.scheduled_closing_passed():
        raise closing.SigningClosed()
    details: dict[str, Any] = {  # DETAILS
        "name": tidy(name),
        "affiliation": tidy(affiliation),
        "group": group,
        "listed": bool(listed),
        "wants_updates": bool(wants_updates),
        "ip_hash": ip_hash,
        "suspected_bot": suspected_bot,
        "language": language,
        "fill_seconds": fill_seconds,
    }
    return normalise_email(email), details, now_utc()


def signature_values(address: str, details: dict[str, Any], signed_at: datetime) -> dict[str, Any]:
    """The values of a new pending signature with this address and these details, signed then."""
    return {
        **details,
        **lifecycle.new_state(details["suspected_bot"]),
        "email": address,
        "email_hash": email_hash(address),
        "email_key": mailbox_hash(address),
        "email_domain_hash": domain_hash(address),
        "secret": new_secret(),
        "signed_at": signed_at,
        "listing_review": lifecycle.ListingReview.NONE.value,
    }


def sign_now(*, base: str | None = None, **form: Any) -> None:
    """A signing on the sign form: one outbox row, whatever the address, so that the form takes as
    long to answer for an address that has signed (confirmed, listed or not, or not yet confirmed) as
    for one that has not, and how long it takes tells nobody who signed. The row (template
    signer_emails.SIGNED) holds the address and what the signer gave; the mail worker, when it takes
    the row, adds the signature or finds the one that has the address, and decides which email the
    row becomes (settle_signings, with sign()'s rules). The form looks nothing up.

    The row is written on the driver in a transaction of its own, committed at once (a transaction
    boundary): on SQLite in database.own_transaction, so the single write lock is held for one
    statement; on PostgreSQL as a statement that is its own transaction (database.own_statement), one
    round trip. Takes sign()'s arguments, and the base the form was sent on (links.request_base): the
    emails the signing becomes link there. Raises SigningClosed once signing has closed (by schedule,
    or by hand, read in the statement that writes): nothing is written and nothing is sent.
    """
    address, details, signed_at = new_signing(**form)
    row = signing_row(address, signed_at, with_base(details, base))
    dialect = db.engine.dialect
    statement = driver_statement(_signing_statement(dialect.name), dialect)
    if dialect.name == "postgresql":
        with own_statement() as cursor:
            queued = statement.run(cursor, row).fetchone()
    else:
        with own_transaction() as cursor:
            queued = statement.run(cursor, row).fetchone()
    if queued is None:
        raise closing.SigningClosed()


def _still_open() -> ColumnElement[bool]:
    """True while signing has not been closed by hand, read by the statement that writes."""
    return select(LetterState.closed_at).where(LetterState.id == 1).scalar_subquery().is_(None)


@functools.cache
def _signing_statement(dialect: str) -> Insert:
    """Built once: INSERT ... SELECT a signing's outbox row (every column of signing_row given), only
    while signing is not closed by hand, giving back its id."""
    outbox = cast("Table", OutgoingEmail.__table__)
    given = list(signing_row("", None, {}))
    values = [bindparam(column, type_=outbox.c[column].type) for column in given]
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(outbox).from_select(given, select(*values).where(_still_open())).returning(outbox.c.id)


class SigningRace(RuntimeError):
    """The address was taken and its signature withdrawn in the same instant: the signer tries again."""


def insert_or_find_taken(signature: Signature, while_open: bool = True) -> Signature | None:
    """Insert the new signature (None), or find the one that already has its address. An address
    taken and withdrawn again before we looked is free: try again (a rare race). While `while_open`,
    raises SigningClosed when the insert found signing closed by hand; without it (a signing the form
    accepted while open), closing does not matter."""
    for _ in range(3):
        if insert_unless_taken(signature, while_open):
            return None
        if while_open and closing.is_closed(fresh=True):
            raise closing.SigningClosed()
        existing = signature_by_email(signature.email or "", for_update=True)
        if existing is not None:
            return existing
    raise SigningRace()


# (attribute, column) of every column a new signature gives: "group" is stored as signatory_group.
# The letter's version is not given: the statement reads it.
_COLUMNS = [
    (prop.key, prop.columns[0].name)
    for prop in sa_inspect(Signature).column_attrs
    if prop.key not in ("id", "letter_version")
]


def insert_signatures(rows: Sequence[dict[str, Any]], while_open: bool = True) -> dict[str, tuple[int, int | None]]:
    """The one way a signature is added, on either database: new signatures (each row as
    signature_values gives it, by attribute) in one statement, INSERT ... SELECT ... ON CONFLICT DO
    NOTHING RETURNING, in the session's transaction. Each row gets the version of the letter it was
    signed under (versions.signed_under: the newest published by its signed_at, or the first for a
    signing made before any), read by the statement; while `while_open`, nothing is added once
    signing was closed by hand, read in the very statement that adds the rows. A taken address (or
    the hash of an erased one) adds nothing, and neither does a second row with an address earlier
    in `rows`: the database's unique constraints decide, and need no savepoint. Any other broken rule
    raises IntegrityError. The id and letter version of each row added, by its address's hash."""
    if not rows:
        return {}
    connection = db.session.connection()  # on SQLite a request that writes has the lock already
    statement = _insert_statement(connection.dialect.name, len(rows), while_open)
    values = {f"{column}_{n}": row.get(key) for n, row in enumerate(rows) for key, column in _COLUMNS}
    return {email_hash: (id_, version) for id_, email_hash, version in connection.execute(statement, values)}


@functools.cache  # per dialect, number of rows (at most a claimed batch's) and while_open
def _insert_statement(dialect: str, count: int, while_open: bool) -> Insert:
    """INSERT ... SELECT the given values of `count` signatures (a SELECT per row, UNION ALL), each
    with the version of the letter it was signed under, only while signing is not closed by hand
    (unless not `while_open`), doing nothing on a taken address, giving back the id, address hash
    and version of each row added. The closing is read in the very statement that adds the rows."""
    table = cast("Table", Signature.__table__)
    selects = []
    for n in range(count):
        values = [bindparam(f"{column}_{n}", type_=table.c[column].type) for _, column in _COLUMNS]
        signed_at = values[[column for _, column in _COLUMNS].index("signed_at")]
        # SQLite reads an upsert after INSERT ... SELECT only if the SELECT has a WHERE.
        selects.append(select(*values, versions.signed_under(signed_at)).where(_still_open() if while_open else true()))
    rows = selects[0] if count == 1 else union_all(*selects)
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        dialect_insert(table)
        .from_select([column for _, column in _COLUMNS] + ["letter_version"], rows)
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.email_hash, table.c.letter_version)
    )


def insert_unless_taken(signature: Signature, while_open: bool = True) -> bool:
    """Insert the new signature (insert_signatures), unless signing was closed by hand (while
    `while_open`) or its address is taken: whether it was. The signature joins the session as the
    row it now is (its id is what the emailed links carry)."""
    values = {key: getattr(signature, key) for key, _ in _COLUMNS}
    inserted = insert_signatures([values], while_open).get(values["email_hash"])
    if inserted is None:
        return False
    signature.id, signature.letter_version = inserted
    make_transient_to_detached(signature)
    db.session.add(signature)
    return True


def replace_unconfirmed(signature: Signature, details: dict[str, Any]) -> SignOutcome:
    """A new signing with an address whose signature nobody has confirmed: the new details replace
    the old and a normal confirmation goes to the address, so a bot or a stranger who typed someone's
    address first cannot keep its owner from signing. Earlier links stop working (a new secret);
    the emails not yet sent with them are dropped. A suspected bot never replaces a person's details.
    """
    if not lifecycle.may_replace(signature, details["suspected_bot"]):
        return SignOutcome(signature, created=False)
    drop_unsent_emails(signature)
    lifecycle.replace_unconfirmed(signature, secret=new_secret(), signed_at=now_utc(), **details)
    if not signature.suspected_bot:
        queue_confirmation(signature)
    db.session.flush()
    return SignOutcome(signature, created=False, replaced=True)


def drop_unsent_emails(signature: Signature) -> None:
    """Its emails not yet sent carry links that no longer work."""
    db.session.execute(
        delete(OutgoingEmail).where(OutgoingEmail.signature_id == signature.id, OutgoingEmail.sent_at.is_(None))
    )


def signature_by_email(email: str, for_update: bool = False) -> Signature | None:
    """The signature of this address. for_update locks its row (PostgreSQL) and reads it afresh, so a
    confirmation that lands meanwhile is seen before its details could be replaced."""
    address = normalise_email(email)
    # By its keyed hash: the address itself is sealed, and an erased one is found the same way.
    statement = select(Signature).where(Signature.email_hash == email_hash(address))
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(statement).scalar_one_or_none()


def confirm_signature(signature: Signature) -> Signature:
    """The owner pressed "Confirm my signature". Confirming twice changes nothing. It counts only
    if the organisers have not held it back (signature.visible says)."""
    if not signature.is_confirmed:
        lifecycle.confirm(signature, now_utc())
        listing.on_confirmed(signature)
        db.session.flush()
    return signature


def correct_signature(
    signature: Signature, *, name: str, affiliation: str, group: str, listed: bool, wants_updates: bool | None = None
) -> Signature:
    name, affiliation = tidy(name), tidy(affiliation)
    renamed = (name, affiliation) != (signature.name, signature.affiliation) or (listed and not signature.listed)
    lifecycle.correct(signature, name=name, affiliation=affiliation, group=group, listed=listed)
    listing.on_corrected(signature, renamed=renamed)
    if wants_updates is not None:
        signature.wants_updates = bool(wants_updates)
    db.session.flush()
    return signature


def withdraw_signature(signature: Signature) -> None:
    """The signer withdraws: the signature and every email about it are deleted for good."""
    lifecycle.delete_with_emails(signature)
    db.session.flush()


def ask_again(email: str, base: str | None = None) -> None:
    """Someone asked for the email again (the resend form) for this address: one outbox row, whatever
    the address, so that neither the page nor the time it takes says whether the address has signed.
    The mail worker decides what the row becomes (settle_signings): a fresh confirmation link for an
    unconfirmed signature while signing is open, the private link for a confirmed one, nothing for an
    address that has not signed or a suspected bot. Takes the address as the form checked it, and the
    base the form was sent on (links.request_base): the email links there."""
    queue_row(asked_again_row(normalise_email(email), base))
