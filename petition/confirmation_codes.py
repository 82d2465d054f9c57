"""Confirmation codes: eight digits that confirm a signature without following a link.

Some mail programs rewrite or open links before their reader does, some signers will not click a
link in an email, and a signer who signed by email can confirm by replying. So each confirmation
email also carries a code, typed on the confirm page (with the address it was sent to) or kept in
a reply. The code is derived from the signature's own secret with the site's key, so nothing more
is stored, it changes when the secret does, and a code for one signature says nothing of another.
Eight digits with the address: a guess is right once in a hundred million, and the confirm page
allows a few tries per signature and per client (see the views that accept a code).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from flask import current_app

from .models import Signature

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
