"""Cleaning what visitors type: one rule for every text field."""

from __future__ import annotations

import re
import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import cast

from email_validator import EmailNotValidError, validate_email
from flask import g, has_request_context

_WHITESPACE_RUN = re.compile(r"\s+")
# Bidirectional overrides and isolates can make a name display as something else in the list.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode's default-ignorable code points: drawn as nothing, whatever their category says (the
# Hangul fillers count as letters). A name made only of these would be listed blank.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def tidy(value: str | None) -> str:
    """NFC-normalise, trim and fold runs of white space (full-width spaces included) into one."""
    if value is None:
        return ""
    return _WHITESPACE_RUN.sub(" ", unicodedata.normalize("NFC", value)).strip()


# What XML 1.0 has no place for (its Char production): C0 controls but tab, LF and CR; surrogates;
# U+FFFE and U+FFFF. One of them makes a whole feed malformed, and feed readers drop it.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_forbidden_character(value: str) -> str | None:
    """The first character of `value` that XML 1.0 forbids, or None."""
    found = _XML_FORBIDDEN.search(value)
    return found.group() if found else None


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in value)


def is_invisible(ch: str) -> bool:
    point = ord(ch)
    return any(low <= point <= high for low, high in _INVISIBLE_RANGES)


def has_visible_letter_or_digit(value: str) -> bool:
    """True if something a reader can see and read is there: a letter or digit that is drawn."""
    return any(
        ch.isalnum() if ch.isascii() else unicodedata.category(ch)[0] in "LN" and not is_invisible(ch)
        for ch in value or ""
    )


def normalise_email(value: str) -> str:
    """normalise_email_once, remembered for the request that asks: a signing asks about one address
    several times (the rate limit's key, the form, the row). Never remembered from one request to the
    next: an address answered from memory would come back faster, and how fast the sign form answers
    would tell an opponent that someone had typed that address lately."""
    if not has_request_context():
        return normalise_email_once(value)
    known = g.setdefault("normalised_emails", {})
    if value not in known:
        known[value] = normalise_email_once(value)
    return cast("str", known[value])


def normalise_email_once(value: str) -> str:
    """The form in which an address is stored, compared and put on the envelope: a plain addr-spec,
    checked, trimmed, lower-cased, with its domain in ASCII (IDNA) wherever the mailbox is ASCII.

    One inbox has one spelling here: an RFC 2047 encoded word (=?utf-8?q?carol?=) is refused, not
    stored beside the plain address it decodes to, and the address must read back unchanged through
    the standard library's header objects that build the email. Raises EmailNotValidError with a
    readable message. No DNS look-up: the confirmation email is what proves an address works.
    """
    checked = validate_email(value.strip(), check_deliverability=False)
    if "=?" in checked.local_part or "?=" in checked.local_part:
        raise EmailNotValidError("An encoded word is not a plain email address.")
    address = (checked.ascii_email or checked.normalized).lower()
    local, _, domain = address.rpartition("@")
    try:
        plain = Address(username=local, domain=domain).addr_spec == address
    except (HeaderParseError, ValueError, IndexError):
        plain = False
    if not plain:
        raise EmailNotValidError("This is not a plain email address.")
    return address


# The full stops other scripts type, which IDNA reads as dots: ideographic, full-width, half-width.
_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def mail_domain(value: str) -> str:
    """The domain an address's mail goes to, as DNS spells it: what the confirmation email is sent
    to, whatever the spelling typed (ｍａｉｌｉｎａｔｏｒ.com and mailinator。com are mailinator.com).
    For an address email_validator refuses, the typed domain with the same folding done by hand
    (NFKC, the full stops of other scripts as dots, lower case, no final dot). Worked out afresh
    each time: a process-wide cache would answer faster for an address typed lately, which tells
    whoever times the form who has signed."""
    try:
        return validate_email(value.strip(), check_deliverability=False).ascii_domain.lower()
    except EmailNotValidError:
        domain = unicodedata.normalize("NFKC", value.rsplit("@", 1)[-1]).translate(_FULL_STOPS)
        return domain.strip().lower().rstrip(".")


__all__ = [
    "EmailNotValidError",
    "has_control_characters",
    "has_visible_letter_or_digit",
    "mail_domain",
    "normalise_email",
    "tidy",
    "xml_forbidden_character",
]
