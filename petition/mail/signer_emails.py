"""The emails a signer receives: queued in the outbox in the same transaction as the change that
causes them, written by the mail worker when it sends them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from petition.extensions import db
from petition.mail import outbox
from petition.mail.mailer import sign_by_email_address
from petition.mail.models import OutgoingEmail
from petition.signatures import confirmation_codes
from petition.signatures.models import Signature
from petition.signatures.tokens import CONFIRM, MANAGE, make_token
from petition.web.links import link_on, recorded_base

Row = dict[str, Any]  # an outbox row's values

if TYPE_CHECKING:
    from datetime import datetime

    from flask_babel.speaklater import LazyString


def _links(signature: Signature, made_at: float, base: str | None = None) -> dict[str, str | int | None]:
    """The email's links, on `base` (one of links.other_bases(), recorded by the request that caused
    the email) or else SITE_URL."""
    language = signature.language
    on = base or current_app.config["SITE_URL"]
    return {
        "confirm_url": link_on(on, "public.confirm", token=make_token(signature, CONFIRM, made_at), lang=language),
        "manage_url": link_on(on, "public.manage", token=make_token(signature, MANAGE, made_at), lang=language),
        "resend_url": link_on(on, "public.resend", lang=language),
        "confirm_days": max(1, round(current_app.config["CONFIRM_MAX_AGE"] / 86400)),
        # The code, typed with the address on the confirm page, for when the link cannot be opened.
        "code": confirmation_codes.shown(confirmation_codes.code_for(signature)),
        "code_url": link_on(on, "public.confirm_with_code", lang=language),
        # With signing by email on, a reply (to SIGN_BY_EMAIL_ADDRESS, the email's Reply-To) confirms.
        "reply_confirms": bool(sign_by_email_address()),
        "links_base": on,
    }


def render_email(template: str, **context: Any) -> str:
    """An email's text from its template and what it is given. Not render_template: an email uses
    none of a page's context (language switcher, canonical address, closing banner)."""
    return current_app.jinja_env.get_template(template).render(**context)


# Lazy: translated when written, in the signer's language.
CONFIRM_SUBJECT = _l("Please confirm your signature on the open letter")
ALREADY_SIGNED_SUBJECT = _l("You have already signed the open letter")
DECLINED_SUBJECT = _l("Your name is not on the open letter's public list")

# The emails a signer receives: their template under templates/emails/ and their subject.
SIGNER_EMAILS: dict[str, LazyString] = {
    "confirm": CONFIRM_SUBJECT,
    "already_confirmed": ALREADY_SIGNED_SUBJECT,
    "already_pending": CONFIRM_SUBJECT,
    "listing_declined": DECLINED_SUBJECT,
}


def queue_signer_email(signature: Signature, kind: str, to: str | None = None) -> None:
    """Queue one of SIGNER_EMAILS to the signature's address, or to `to` (the address someone typed,
    when the stored one was erased). The worker writes it when it sends it (write_waiting): nothing
    that queues an email spends its time (or its hold on SQLite's write lock) writing it."""
    outbox.queue_email(*_addressed(signature, kind, to))


# The template of the row a signing on the form queues (signing.sign_now), and of the row a request
# for the email again queues (signing.ask_again), whatever the address: the worker decides which of
# SIGNER_EMAILS each becomes, or that it is none (signing.settle_signings).
SIGNED = "signed"
ASKED_AGAIN = "asked_again"
TO_SETTLE = (SIGNED, ASKED_AGAIN)


# The key, in an outbox row's signing_details, of the address the signer used when it was not SITE_URL
# (one of links.other_bases()): the email the row becomes links there. It stays on the row, once the
# signing is settled, only until the email is written.
BASE = "base"


def with_base(details: dict[str, Any], base: str | None) -> dict[str, Any]:
    """`details` and the base the signer used, if it is one to record (links.recorded_base)."""
    recorded = recorded_base(base)
    return {**details, BASE: recorded} if recorded else details


def signing_row(address: str, signed_at: datetime | None, details: dict[str, Any]) -> dict[str, Any]:
    """The outbox row of a signing on the form at this address (every column given), dated when it was
    signed, with what the signer gave (signing.new_signing's details, and the base the form was sent
    on: with_base). It names no signature yet: the worker finds or adds it (signing.settle_signings)."""
    row = outbox.email_row(address, None, None, None, SIGNED)
    row["created_at"] = row["next_attempt_at"] = signed_at
    row["signing_details"] = details
    return row


def asked_again_row(address: str, base: str | None = None) -> dict[str, Any]:
    """The outbox row of a request for the email again (every column given), with the base the form
    was sent on (see BASE): the worker decides what it becomes (signing.settle_signings)."""
    row = outbox.email_row(address, None, None, None, ASKED_AGAIN)
    if recorded := with_base({}, base):
        row["signing_details"] = recorded
    return row


def base_kept(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a settled row keeps of its signing_details: the base its email links to, if one was
    recorded and is still configured; else nothing."""
    base = recorded_base(stored.get(BASE)) if isinstance(stored, dict) else None
    return {BASE: base} if base else None


def _addressed(signature: Signature, kind: str, to: str | None) -> tuple[str, None, None, int, str]:
    if kind not in SIGNER_EMAILS:
        raise ValueError(f"no signer email called {kind!r}")
    address = to or signature.email
    if address is None:
        raise ValueError(f"signature #{signature.id} has no address to write to")
    return address, None, None, signature.id, kind


def write_waiting(emails: Sequence[OutgoingEmail]) -> dict[int, str | None]:
    """Write the subject and body of the signer emails among `emails` that are still to be written,
    each in its signer's language with the signature as it is now (write_each); its links are dated
    when the email was queued, so a confirmation link lasts as long from signing as it always did.
    Returns why, for each email it could not write (its signature gone, a template it does not know):
    those stay unwritten, the worker fails them, the others go."""
    waiting = [email for email in emails if email.template is not None and email.body is None]
    if not waiting:
        return {}
    # The base each email links to, for the emails a request at another address caused (see BASE): in
    # one read, as the column is deferred.
    recorded = select(OutgoingEmail.id, OutgoingEmail.signing_details).where(
        OutgoingEmail.id.in_([email.id for email in waiting])
    )
    bases = {row.id: kept[BASE] for row in db.session.execute(recorded) if (kept := base_kept(row.signing_details))}

    def write(email: OutgoingEmail, signature: Signature) -> bool:
        subject = str(SIGNER_EMAILS[email.template or ""])
        links = _links(signature, made_at=email.created_at.timestamp(), base=bases.get(email.id))
        email.body = render_email(f"emails/{email.template}.txt", signature=signature, **links)
        email.subject = subject
        if email.id in bases:  # written into the (sealed) body: not kept beside it
            email.signing_details = None
        return True

    return write_each(waiting, write)


def write_each(
    emails: Sequence[OutgoingEmail], write: Callable[[OutgoingEmail, Signature], bool]
) -> dict[int, str | None]:
    """write(email, signature) for each email, with its signature as it is now, in the signer's language
    (in_their_languages): it sets the email's subject and body (sealed when stored, as the address
    is), or returns False for an email no longer to be sent (the signer stopped the news, say).
    Returns, by id, why each email that was not written was not: a reason for one that could not be
    (its signature gone, an error while writing: the worker fails it), None for one not to be sent
    at all (the worker drops it). One email that cannot be written never stops the others."""
    ids = {email.signature_id for email in emails}
    signatures = {s.id: s for s in db.session.execute(select(Signature).where(Signature.id.in_(ids))).scalars()}
    unwritten: dict[int, str | None] = {
        email.id: "its signature is gone" for email in emails if email.signature_id not in signatures
    }
    found = [email for email in emails if email.id not in unwritten]

    def one(i: int, signature: Signature) -> None:
        email = found[i]
        try:
            if not write(email, signature):
                unwritten[email.id] = None
        except Exception as error:
            current_app.logger.exception("Email %s could not be written", email.id)
            unwritten[email.id] = f"{type(error).__name__}: {error}"

    in_their_languages([signatures[email.signature_id or 0] for email in found], one)
    return unwritten


def in_their_languages(signatures: Sequence[Signature], write: Callable[[int, Signature], Row | None]) -> list[Row]:
    """write(i, signature) for each signature of a batch, in that signer's language: the catalogue is
    switched once per language, not once per email (a batch is hundreds of emails); the rows it gave."""
    places: dict[str, list[int]] = defaultdict(list)
    for i, signature in enumerate(signatures):
        places[signature.language].append(i)
    rows: list[Row | None] = [None] * len(signatures)
    for language, indexes in places.items():
        with force_locale(language):
            for i in indexes:
                rows[i] = write(i, signatures[i])
    return [row for row in rows if row is not None]


def queue_confirmation(signature: Signature) -> None:
    queue_signer_email(signature, "confirm")


def queue_already_signed(signature: Signature, to: str | None = None) -> None:
    """Sent when someone signs again with this address: nothing on the site says so, the owner learns
    it here (at `to`, the address typed, if the stored one was erased)."""
    queue_signer_email(signature, "already_confirmed" if signature.is_confirmed else "already_pending", to)
