"""Confirmation codes: eight digits that confirm a signature without following a link.

Some mail programs rewrite or open links before their reader does, some signers will not click a
link in an email, and a signer who signed by email can confirm by replying. So each confirmation
email also carries a code, typed on the confirm page (with the address it was sent to) or kept in
a reply. The code is derived from the signature's own secret with the site's key, so nothing more
is stored, it changes when the secret does, and a code for one signature says nothing of another.
Eight digits with the address: a guess is right once in a hundred million, and the confirm page
allows a few tries per signature and per client (see the views that accept a code).

A typed code confirms as the emailed link does, under the same rules: it works for CONFIRM_MAX_AGE
from the latest confirmation email that carried it (a new email carries the same code, so asking for
the email again renews it), and once signing has closed only if that email was sent before closing
(closing.link_confirms). Looking a code up does the same work whether or not the address has signed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from petition.db.types import now_utc
from petition.extensions import db
from petition.letter import closing
from petition.mail.models import CARRYING_THE_CODE, OutgoingEmail
from petition.privacy.addresses import email_hash
from petition.signatures.models import Signature
from petition.signatures.tokens import LinkExpired, LinkTooLate
from petition.web.text import normalise_email

if TYPE_CHECKING:
    from datetime import datetime

DIGITS = 8
# Eight digits, grouped four and four as the emails print them ("4821 0937"), possibly typed with
# a space, a dash or a dot between, in full-width digits by a Chinese input method (NFKC folds them).
_CODE_IN_TEXT = re.compile(r"(?<!\d)(\d{4})[ \-.]?(\d{4})(?!\d)")


def _code_with(key: str, signature: Signature) -> str:
    mac = hmac.new(key.encode(), f"confirmation-code:{signature.id}:{signature.secret}".encode(), hashlib.sha256)
    return str(int.from_bytes(mac.digest()[:8], "big") % 10**DIGITS).zfill(DIGITS)


def code_for(signature: Signature) -> str:
    """The signature's code, eight digits, made with the current SECRET_KEY."""
    return _code_with(current_app.config["SECRET_KEY"], signature)


def shown(code: str) -> str:
    """The code as emails and pages print it: two groups of four, easier to read and to type."""
    return f"{code[:4]} {code[4:]}"


def normalised(typed: str) -> str | None:
    """The eight digits a visitor typed, whatever the width of the digits and the separators; None
    when what they typed is not a code."""
    match = _CODE_IN_TEXT.fullmatch(unicodedata.normalize("NFKC", typed).strip())
    return "".join(match.groups()) if match else None


def codes_in(text: str) -> list[str]:
    """Every code-shaped group of digits in a text (a reply's subject or body), in order."""
    return ["".join(m.groups()) for m in _CODE_IN_TEXT.finditer(unicodedata.normalize("NFKC", text))]


def matches(signature: Signature, typed: str) -> bool:
    """Whether `typed` is this signature's code, under the current key or a previous one (so codes
    sent before a key rotation keep working), compared in constant time."""
    code = normalised(typed)
    if code is None:
        return False
    config = current_app.config
    keys = [config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(_code_with(key, signature), code) for key in keys)


class WrongCode(Exception):
    """The code is not this address's, or the address has no signature: one answer for both."""


def signature_for_code(address: str, typed: str) -> Signature:
    """The signature whose address and code these are, its code still good (as its link would be).
    Raises WrongCode for a wrong code or an address that has not signed, after the same work either
    way (one look-up by the address's keyed hash, the code's HMAC under every key); LinkExpired when
    the latest email with the code is older than CONFIRM_MAX_AGE, LinkTooLate when it was sent after
    signing closed (only someone who has the code learns that). `address` is as the form checked it."""
    found = db.session.execute(
        select(Signature.id, Signature.secret).where(Signature.email_hash == email_hash(normalise_email(address)))
    ).one_or_none()
    # An address that has not signed is checked against a secret nobody knows: the same HMACs.
    id_and_secret = (found.id, found.secret) if found else (0, secrets.token_urlsafe(16))
    candidate = Signature(id=id_and_secret[0], secret=id_and_secret[1])
    if not matches(candidate, typed) or found is None:
        raise WrongCode()
    signature = db.session.get_one(Signature, found.id)
    issued = issued_at(signature)
    if issued is None:  # no email has carried this code (a suspected bot's signature): nobody was given it
        raise WrongCode()
    if now_utc() - issued > timedelta(seconds=current_app.config["CONFIRM_MAX_AGE"]):
        raise LinkExpired()
    if not closing.link_confirms(issued):
        raise LinkTooLate()
    return signature


def issued_at(signature: Signature) -> datetime | None:
    """When the latest email carrying the signature's present code was queued (its links are dated
    then), or None: emails from before its secret last changed carried another code."""
    return db.session.execute(
        select(func.max(OutgoingEmail.created_at)).where(
            OutgoingEmail.signature_id == signature.id,
            OutgoingEmail.template.in_(CARRYING_THE_CODE),
            OutgoingEmail.created_at >= signature.signed_at,
        )
    ).scalar_one_or_none()
