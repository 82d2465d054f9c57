"""Settling signings: the mail worker turns each signing the form wrote into a signature (or finds
the one its address already has) and decides which email the signing becomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from petition.db.types import new_secret
from petition.extensions import db
from petition.letter import closing, versions
from petition.mail.models import OutgoingEmail
from petition.mail.signer_emails import ASKED_AGAIN, SIGNED, TO_SETTLE, base_kept
from petition.signatures import lifecycle
from petition.signatures.models import Signature
from petition.signatures.signing import (
    DETAILS,
    insert_or_find_taken,
    insert_signatures,
    signature_by_email,
    signature_values,
)


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
