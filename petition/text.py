"""Cleaning what visitors type: one rule for every text field."""
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

_WHITESPACE_RUN = re.compile(r"\s+")
# Bidirectional overrides and isolates can make a name display as something else in the list.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def tidy(value):
    """NFC-normalise, trim and fold runs of white space (full-width spaces included) into one."""
    if value is None:
        return ""
    return _WHITESPACE_RUN.sub(" ", unicodedata.normalize("NFC", value)).strip()


def has_control_characters(value):
    return any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in value)


def normalise_email(value):
    """The form in which an address is stored and compared: checked, trimmed, lower-cased.

    Raises EmailNotValidError with a readable message. No DNS look-up: the confirmation
    email is what proves an address works.
    """
    checked = validate_email(value.strip(), check_deliverability=False)
    return checked.normalized.lower()


__all__ = ["tidy", "has_control_characters", "normalise_email", "EmailNotValidError"]
