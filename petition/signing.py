"""Signing the letter and everything a signer can do afterwards: the rules, callable without HTTP."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Executable, Insert, Table, bindparam, delete, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached

from . import closing, lifecycle, listing, versions
from .addresses import email_hash, mailbox_key
from .database import driver_statement, own_statement, own_transaction
from .extensions import db
from .models import LetterState, LetterVersion, OutgoingEmail, Signature, new_secret, now_utc
from .outbox import OUTBOX_INSERT, email_row
from .signer_emails import confirmation_row, queue_already_signed, queue_confirmation
from .text import normalise_email, tidy

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class SignOutcome:
    signature: Signature
    created: bool  # False when this address had already signed; nothing was added
    replaced: bool = False  # an unconfirmed signature from this address took these new details


def sign(**form: Any) -> SignOutcome:
    """Add a pending signature and queue its confirmation email, in one transaction. Takes what
    new_values takes.

    The unique constraint on the address decides what happens when the address is taken, so two
    simultaneous attempts cannot both win. If its signature is confirmed, nothing is added and the
    owner is told by email (never on the page, so the form cannot be used to learn who signed).
    If it is not confirmed, nobody has shown they own the address yet: see replace_unconfirmed.
    A suspected bot's signature (the honeypot) is stored for review but never emailed, counted or
    listed. `fill_seconds` (how long the form took) is kept for organisers; on its own it flags nothing.
    Raises SigningClosed once the letter is closed: nothing is added and nothing is sent.
    """
    signature, details = new_signature(**form)
    existing = insert_or_find_taken(signature)
    if existing is not None:
        if not existing.is_confirmed:
            return replace_unconfirmed(existing, {**details, "letter_version": versions.current_number()})
        if not signature.suspected_bot:
            queue_already_signed(existing, to=signature.email)
        db.session.flush()
        return SignOutcome(existing, created=False)
    if not signature.suspected_bot:
        queue_confirmation(signature)
    db.session.flush()
    return SignOutcome(signature, created=True)


def new_signature(**form: Any) -> tuple[Signature, dict[str, Any]]:
    """A new pending signature from what the signer gave (what new_values takes), not yet stored, and
    the details that a signing again with its address would replace."""
    values, details = new_values(**form)
    return Signature(**values), details


def new_values(
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
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new pending signature's values, by attribute (every column the database does not work out
    itself), and the details that a signing again with its address would replace. Raises
    SigningClosed once SIGNING_CLOSES_AT has passed (the closing by hand is read where the signature
    is inserted)."""
    if closing.scheduled_closing_passed():
        raise closing.SigningClosed()
    details: dict[str, Any] = {
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
    address = normalise_email(email)
    values = {
        **details,
        **lifecycle.new_state(suspected_bot),
        "email": address,
        "email_hash": email_hash(address),
        "email_key": mailbox_key(address),
        "secret": new_secret(),
        "signed_at": now_utc(),
        "listing_review": lifecycle.ListingReview.NONE.value,
    }
    return values, details


def sign_now(**form: Any) -> None:
    """sign(), as the sign form does it: a new signature and its confirmation email are written on
    the driver in a transaction of their own, committed at once (a transaction boundary): on SQLite
    two statements in database.own_transaction, so the single write lock is held for them and nothing
    else; on PostgreSQL one statement that is its own transaction (database.own_statement), one round
    trip to the server. The rows are built as values, with no ORM object (the form needs none). An
    address already taken, signing closed by hand, or a suspected bot goes the usual way, sign(), in
    the request's transaction. Takes sign()'s arguments; what happened is in the database."""
    values, _ = new_values(**form)
    if values["suspected_bot"]:
        sign(**form)
        return
    row = {column: values.get(key) for key, column in _COLUMNS}  # none yet: confirmed_at, email_erased_at
    confirmation = confirmation_row(values["email"])
    dialect = db.engine.dialect
    if dialect.name == "postgresql":
        with own_statement() as cursor:
            both = {**row, **{f"email_{column}": value for column, value in confirmation.items()}}
            inserted = driver_statement(_signature_with_confirmation(), dialect).run(cursor, both).fetchone()
    else:
        with own_transaction() as cursor:
            inserted = driver_statement(_insert_statement(dialect.name), dialect).run(cursor, row).fetchone()
            if inserted is not None:
                confirmation["signature_id"] = inserted[0]
                driver_statement(OUTBOX_INSERT, dialect).run(cursor, confirmation)
    if inserted is None:  # taken, or closed by hand: nothing was written
        sign(**form)


@functools.cache
def _signature_with_confirmation() -> Executable:
    """PostgreSQL, built once: the new signature's INSERT (as _insert_statement) and its confirmation's
    INSERT, reading the new id, as data-modifying CTEs of one statement, which gives back the id and
    letter version. Both rows or neither; a taken address or a closing by hand inserts nothing."""
    new = _insert_statement("postgresql").cte("new_signature")
    outbox = cast("Table", OutgoingEmail.__table__)
    given = [column for column in email_row("", None, None) if column != "signature_id"]
    email_values = [bindparam(f"email_{column}", type_=outbox.c[column].type) for column in given]
    rows = select(*email_values, new.c.id)
    its_confirmation = postgresql_insert(outbox).from_select([*given, "signature_id"], rows).cte("its_confirmation")
    return select(new.c.id, new.c.letter_version).add_cte(its_confirmation)


class SigningRace(RuntimeError):
    """The address was taken and its signature withdrawn in the same instant: the signer tries again."""


def insert_or_find_taken(signature: Signature) -> Signature | None:
    """Insert the new signature (None), or find the one that already has its address. An address
    taken and withdrawn again before we looked is free: try again (a rare race). Raises
    SigningClosed when the insert found signing closed by hand."""
    for _ in range(3):
        if insert_unless_taken(signature):
            return None
        if closing.is_closed(fresh=True):
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


@functools.cache
def _insert_statement(dialect: str) -> Insert:
    """Built once: INSERT ... SELECT the given values and the newest version of the letter, only while
    signing is not closed by hand, doing nothing on a taken address, giving back the id and version.
    One statement instead of three, and the closing is read in the very statement that adds the row."""
    table = cast("Table", Signature.__table__)
    values = [bindparam(column, type_=table.c[column].type) for _, column in _COLUMNS]
    newest_version = select(func.max(LetterVersion.number)).scalar_subquery()
    still_open = select(LetterState.closed_at).where(LetterState.id == 1).scalar_subquery().is_(None)
    rows = select(*values, newest_version).where(still_open)
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        dialect_insert(table)
        .from_select([column for _, column in _COLUMNS] + ["letter_version"], rows)
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.letter_version)
    )


def insert_unless_taken(signature: Signature) -> bool:
    """Insert the new signature in one statement, unless signing was closed by hand or its address (or
    the hash of an erased one) is taken: INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING, so a
    taken address needs no savepoint and the database's unique constraints still decide. Any other
    broken rule raises IntegrityError. The signature joins the session as the row it now is (its id
    is what the emailed links carry)."""
    values = {column: getattr(signature, key) for key, column in _COLUMNS}
    # A Core statement: straight to the transaction's connection (on SQLite, taking the write lock
    # now, with everything it writes already worked out).
    connection = db.session.connection()
    inserted = connection.execute(_insert_statement(connection.dialect.name), values).one_or_none()
    if inserted is None:
        return False
    signature.id, signature.letter_version = inserted[0], inserted[1]
    make_transient_to_detached(signature)
    db.session.add(signature)
    return True


def replace_unconfirmed(signature: Signature, details: dict[str, Any]) -> SignOutcome:
    """A new signing with an address whose signature nobody has confirmed: the new details replace
    the old and a normal confirmation goes to the address, so a bot or a stranger who typed someone's
    address first cannot keep its owner from signing. Earlier links stop working (a new secret);
    the emails not yet sent with them are dropped. A suspected bot never replaces a person's details.
    """
    if details["suspected_bot"] and not signature.suspected_bot:
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
    # An erased address is found by its keyed hash.
    statement = select(Signature).where(or_(Signature.email == address, Signature.email_hash == email_hash(address)))
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


def resend_confirmation(email: str) -> None:
    """Queue the email its owner needs (a fresh confirmation link, or their private link).

    Says nothing about whether the address has signed: the page looks the same either way.
    """
    try:
        signature = signature_by_email(email)
    except ValueError:
        return
    if signature is None or signature.suspected_bot:
        return
    if signature.is_confirmed:
        queue_already_signed(signature, to=normalise_email(email))
    else:
        queue_confirmation(signature)
    db.session.flush()
