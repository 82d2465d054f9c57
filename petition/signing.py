"""Signing the letter and everything a signer can do afterwards: the rules, callable without HTTP."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy import ColumnElement, Insert, Table, bindparam, delete, select, true, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached

from . import closing, lifecycle, listing, versions
from .addresses import domain_hash, email_hash, mailbox_hash
from .database import driver_statement, own_statement, own_transaction
from .extensions import db
from .models import LetterState, OutgoingEmail, Signature, new_secret, now_utc
from .outbox import queue_row
from .signer_emails import (
    ASKED_AGAIN,
    SIGNED,
    TO_SETTLE,
    asked_again_row,
    base_kept,
    queue_already_signed,
    queue_confirmation,
    signing_row,
    with_base,
)
from .text import normalise_email, tidy

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


def settle_signings(emails: Sequence[OutgoingEmail]) -> tuple[list[OutgoingEmail], dict[int, str]]:
    """The mail worker's part of each signing on the form, and each request for the email again, among
    `emails` (rows whose template is SIGNED or ASKED_AGAIN), in the order they were made. A signing
    follows sign()'s rules:

    - the address is free: the new signature is added (pending; a suspected bot's flagged) and the
      row becomes its confirmation;
    - its signature is confirmed: nothing is added and the row becomes "you have already signed", to
      the address typed (the stored one may have been erased);
    - its signature is not confirmed: the new details replace the old, with a new secret and time
      (earlier links stop working; the emails not yet sent with them are dropped), and the row becomes
      its confirmation; but a suspected bot's signing never replaces a person's details, and a signing
      older than the details the signature holds changes nothing;
    - a suspected bot's signing is never emailed.

    A request for the email again becomes a fresh confirmation link for an unconfirmed signature while
    signing is open (never once it has closed: closing's rule), its private link ("you have already
    signed") for a confirmed one, and nothing for an address that has not signed or a suspected bot's
    signature.

    A signing the form accepted is recorded even if signing has closed since: its signer signed in
    time. What the signer gave is cleared from the row once settled (but for the base the form was sent
    on, signer_emails.BASE, until the email is written), and the row names its signature.
    Gives back the emails left to write and send, in their order (the rows that become no email are
    deleted), and why, for each signing that could not be settled (its row stays as it is, for the
    worker to fail with that reason); one that cannot be settled never stops the others."""
    signings = sorted((email for email in emails if email.template in TO_SETTLE), key=lambda e: (e.created_at, e.id))
    if not signings:
        return list(emails), {}
    read = select(OutgoingEmail.id, OutgoingEmail.signing_details).where(
        OutgoingEmail.id.in_([email.id for email in signings])
    )
    stored = {row.id: row.signing_details for row in db.session.execute(read)}
    given = {id: _given(details) for id, details in stored.items()}
    if any(email.template == SIGNED for email in signings):
        versions.publish_first()  # every signature records a version: the first is published with it
    added = _add_signatures(
        [email for email in signings if email.template == SIGNED and email.to_address and given.get(email.id)], given
    )
    dropped: set[int] = set()
    problems: dict[int, str] = {}
    for email in signings:
        if email.id in dropped:
            continue
        details = given.get(email.id)
        if email.id in added:
            email.signature_id = added[email.id]
            kind = None if details and details["suspected_bot"] else "confirm"
        else:
            try:
                with db.session.begin_nested():
                    if email.to_address is None:
                        raise ValueError("its address was erased")
                    if email.template == ASKED_AGAIN:
                        kind = _asked_again(email, email.to_address)
                    elif details is None:
                        raise ValueError("what the signer gave is missing")
                    else:
                        kind = _settled(email, email.to_address, details, emails, dropped)
            except Exception as error:  # one signing that cannot be settled never stops the others
                current_app.logger.exception("Signing %s could not be settled", email.id)
                problems[email.id] = f"the signing could not be recorded: {type(error).__name__}: {error}"
                continue
        email.signing_details = base_kept(stored.get(email.id))  # the base its email links to, if any
        if kind is None:
            dropped.add(email.id)
        else:
            email.template = kind
    for email in emails:
        if email.id in dropped:
            db.session.delete(email)
    return [email for email in emails if email.id not in dropped], problems


def _given(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """What new_signing gave, and nothing else, from a signing's row; None if it is not all there."""
    if not isinstance(stored, dict) or not all(key in stored for key in DETAILS):
        return None
    return {key: stored[key] for key in DETAILS}


def _add_signatures(signings: Sequence[OutgoingEmail], given: dict[int, dict[str, Any] | None]) -> dict[int, int]:
    """The new signatures of a batch of signings, in one statement (INSERT ... ON CONFLICT DO NOTHING,
    a row per signing, the oldest first): the id of each signing's signature that was added. A taken
    address adds nothing (nor does a second signing with an address in the batch): settle_signings
    looks at those one by one. If the statement fails (one row breaks a rule), nothing is added here
    and every signing is looked at on its own."""
    if not signings:
        return {}
    rows: list[dict[str, Any]] = []
    firsts: dict[str, int] = {}  # the first signing in the batch with each address (by its hash)
    for email in signings:
        values = signature_values(email.to_address or "", given[email.id] or {}, email.created_at)
        rows.append(values)
        firsts.setdefault(values["email_hash"], email.id)
    try:
        with db.session.begin_nested():  # the savepoint begins when the session's connection is asked for
            inserted = insert_signatures(rows, while_open=False)
    except SQLAlchemyError:
        current_app.logger.warning("A batch of signings broke a rule: each is recorded on its own", exc_info=True)
        return {}
    return {firsts[email_hash]: signature_id for email_hash, (signature_id, _) in inserted.items()}


def _asked_again(email: OutgoingEmail, address: str) -> str | None:
    """Which email a request for the email again becomes (see settle_signings), or None."""
    signature = signature_by_email(address)
    # Asked before the signing that gave the signature its details: that signing sends its own link.
    if signature is None or signature.suspected_bot or signature.signed_at > email.created_at:
        return None
    email.signature_id = signature.id
    if signature.is_confirmed:
        return "already_confirmed"
    # No new confirmation link once signing has closed (closing's rule).
    return "confirm" if closing.issues_confirmation_links(email.created_at) else None


def _settled(
    email: OutgoingEmail, address: str, details: dict[str, Any], batch: Sequence[OutgoingEmail], dropped: set[int]
) -> str | None:
    """Record one signing (see settle_signings): which of the signer emails its row becomes, or None."""
    bot = bool(details["suspected_bot"])
    signature = Signature(**signature_values(address, details, email.created_at))
    existing = insert_or_find_taken(signature, while_open=False)
    if existing is None:
        email.signature_id = signature.id
        return None if bot else "confirm"
    email.signature_id = existing.id
    if existing.is_confirmed:
        return None if bot else "already_confirmed"
    if existing.signed_at > email.created_at or not lifecycle.may_replace(existing, bot):
        return None
    _drop_unsent_emails(existing, email, batch, dropped)
    lifecycle.replace_unconfirmed(
        existing,
        secret=new_secret(),
        signed_at=email.created_at,
        letter_version=versions.number_at(email.created_at),
        suspected_bot=bot,
        **{key: value for key, value in details.items() if key != "suspected_bot"},
    )
    return None if existing.suspected_bot else "confirm"


def _drop_unsent_emails(
    signature: Signature, keep: OutgoingEmail, batch: Sequence[OutgoingEmail], dropped: set[int]
) -> None:
    """The signature's emails not yet sent carry links that no longer work: those in the worker's batch
    are dropped (but not `keep`, the signing's own row), the others deleted."""
    for other in batch:
        if other.signature_id == signature.id and other is not keep and other.sent_at is None:
            dropped.add(other.id)
    db.session.execute(
        delete(OutgoingEmail)
        .where(
            OutgoingEmail.signature_id == signature.id,
            OutgoingEmail.sent_at.is_(None),
            OutgoingEmail.failed_at.is_(None),
            OutgoingEmail.id.not_in([other.id for other in batch]),
        )
        .execution_options(synchronize_session=False)
    )


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
