"""Form validators shared by every form: one rule for every text field."""

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from .text import EmailNotValidError, has_control_characters, has_visible_letter_or_digit, normalise_email, tidy


def tidy_filter(value):
    return tidy(value) if isinstance(value, str) else value


class NoControlCharacters:
    """Rejects invisible control characters anywhere but the ends (which are trimmed)."""

    message = _l("Remove the invisible control characters from this field.")

    def __call__(self, form, field):
        raw = field.raw_data[0] if field.raw_data else ""
        if isinstance(raw, str) and has_control_characters(raw.strip()):
            raise ValidationError(self.message)


class VisibleText:
    """A name or affiliation made only of invisible characters would be listed as a blank."""

    message = _l("Write at least one letter or number that can be seen.")

    def __call__(self, form, field):
        if field.data and not has_visible_letter_or_digit(field.data):
            raise ValidationError(self.message)


class ValidEmail:
    message = _l("Enter a valid email address, such as name@university.edu.")

    def __call__(self, form, field):
        try:
            normalise_email(field.data or "")
        except EmailNotValidError:
            raise ValidationError(self.message) from None
