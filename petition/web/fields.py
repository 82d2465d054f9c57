"""Form validators shared by every form: one rule for every text field."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation, ValidationError

from petition.privacy.addresses import is_disposable
from petition.web.text import (
    EmailNotValidError,
    has_control_characters,
    has_visible_letter_or_digit,
    mail_domain,
    normalise_email,
    tidy,
    xml_forbidden_character,
)

if TYPE_CHECKING:
    from wtforms import Field, Form


def tidy_filter(value: str | None) -> str | None:
    return tidy(value) if isinstance(value, str) else value


def line_breaks_filter(value: str | None) -> str | None:
    """A text area's lines as browsers send them (CR LF) or as pasted (CR, LF), stored with LF."""
    return with_lf(value) if isinstance(value, str) else value


def with_lf(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


class NoControlCharacters:
    """Rejects invisible control characters anywhere but the ends (which are trimmed). A text area
    (allow_line_breaks) keeps the line breaks a person types with Enter, and nothing else invisible."""

    message = _l("Remove the invisible control characters from this field.")

    def __init__(self, allow_line_breaks: bool = False) -> None:
        self.allow_line_breaks = allow_line_breaks

    def __call__(
        self,
        form: Form,
        field: Field,
    ) -> None:
        raw = field.raw_data[0] if field.raw_data else ""
        if not isinstance(raw, str):
            return
        if self.allow_line_breaks:
            raw = with_lf(raw).replace("\n", " ")
        if has_control_characters(raw.strip()):
            raise ValidationError(self.message)


class Publishable:
    """Refuses what XML 1.0 forbids (C0 controls but tab and line breaks, U+FFFE, U+FFFF, lone
    surrogates), as typed or as cleaned, with the character named: published text goes into the Atom
    feeds, and one such character makes a whole feed malformed, so feed readers drop it. Stops the
    field's other checks, which would only repeat that something is wrong."""

    def __call__(self, form: Form, field: Field) -> None:
        raw = field.raw_data[0] if field.raw_data else ""
        for value in (raw, field.data):
            found = xml_forbidden_character(value) if isinstance(value, str) else None
            if found is not None:
                raise StopValidation(
                    _l(
                        "This has a character that cannot be published: %(character)s. Remove it and send again.",
                        character=f"U+{ord(found):04X}",
                    )
                )


class VisibleText:
    """A name or affiliation made only of invisible characters would be listed as a blank."""

    message = _l("Write at least one letter or number that can be seen.")

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not has_visible_letter_or_digit(field.data):
            raise ValidationError(self.message)


class ValidEmail:
    message = _l("Enter a valid email address, such as name@university.edu.")

    def __call__(self, form: Form, field: Field) -> None:
        try:
            normalise_email(field.data or "")
        except EmailNotValidError:
            raise ValidationError(self.message) from None


class NotDisposable:
    """Addresses at throwaway-mail services are refused: the signer must be reachable later (news,
    a question from the organisers), and such addresses are how one person signs many times."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and "@" in field.data and is_disposable(field.data):
            domain = mail_domain(field.data)
            raise ValidationError(
                _l(
                    "Addresses at %(domain)s are throwaway addresses and cannot sign. Use an address you will keep, such as your university's.",  # noqa: E501 (one message for the catalogue)
                    domain=domain,
                )
            )


class TooLong:
    """At most `limit` characters, and the message says how many were typed, so a person knows how
    much to cut."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.field_flags = {"maxlength": limit}

    def __call__(self, form: Form, field: Field) -> None:
        typed = len(field.data or "")
        if typed > self.limit:
            raise ValidationError(_l("Use at most %(max)d characters; this has %(n)d.", max=self.limit, n=typed))
