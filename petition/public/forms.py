from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import BooleanField, EmailField, Field, Form, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from .. import groups, locales
from ..fields import NoControlCharacters, NotDisposable, TooLong, ValidEmail, VisibleText, tidy_filter
from ..models import AFFILIATION_MAX, EMAIL_MAX, NAME_MAX

if TYPE_CHECKING:
    from wtforms.fields.core import UnboundField


def email_field(*extra_checks: Any) -> UnboundField:
    return EmailField(
        _l("Email address"),
        description=_l("Never shown publicly. Only the organisers see it."),
        filters=[tidy_filter],
        validators=[
            DataRequired(_l("Enter your email address.")),
            TooLong(EMAIL_MAX),
            NoControlCharacters(),
            ValidEmail(),
            *extra_checks,
        ],
        render_kw={"maxlength": EMAIL_MAX, "autocomplete": "email", "inputmode": "email"},
    )


CHOOSE_GROUP = _l("Choose the group you sign as.")


class TokenWhenShown(_FlaskFormCSRF):
    """Flask-WTF's CSRF check, unchanged; but the token a form shows is made only when it is shown.
    A signing form that passes its checks is never shown again, and making a token costs an HMAC in
    every signing request."""

    def generate_csrf_token(self, csrf_token_field: Field) -> Any:
        return LazyString(super().generate_csrf_token, csrf_token_field)


class KnownGroup:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data not in groups.group_keys():
            raise ValidationError(CHOOSE_GROUP)


class SignatoryDetailsForm(FlaskForm):
    """What a signer gives and can later correct: everything but the address."""

    class Meta:
        csrf_class = TokenWhenShown

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = locales.current_language()
        self.group.choices = [SelectChoice(group.key, group.label(language)) for group in groups.all_groups()]

    name = StringField(
        _l("Full name"),
        filters=[tidy_filter],
        validators=[DataRequired(_l("Enter your name.")), TooLong(NAME_MAX), NoControlCharacters(), VisibleText()],
        render_kw={"maxlength": NAME_MAX, "autocomplete": "name"},
    )
    affiliation = StringField(
        _l("Affiliation"),
        description=_l("Your university or institution, and department if you wish."),
        filters=[tidy_filter],
        validators=[
            DataRequired(_l("Enter your affiliation.")),
            TooLong(AFFILIATION_MAX),
            NoControlCharacters(),
            VisibleText(),
        ],
        render_kw={"maxlength": AFFILIATION_MAX, "autocomplete": "organization"},
    )
    group = RadioField(
        _l("I sign as"),
        choices=[],  # the groups, from the database: see __init__
        validate_choice=False,  # KnownGroup below gives the message a person can act on
        validators=[DataRequired(CHOOSE_GROUP), KnownGroup()],
    )
    listed = BooleanField(
        _l("Show my name and affiliation in the public list"),
        description=_l("Untick this to be counted without being named anywhere public."),
        default=True,
    )
    updates = BooleanField(
        _l("Email me news about this letter"),
        description=_l("Now and then: when it is delivered, when a reply comes. Every email has a link to stop them."),
        default=False,
    )


class SignatureForm(SignatoryDetailsForm):
    email = email_field(NotDisposable())
    # Bots fill every field; people never see this one (hidden by a CSS class, not an inline style).
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    # When the form was shown, signed; a form sent back faster than a person can type is suspect.
    started = HiddenField()


class ResendForm(FlaskForm):
    email = email_field()


class ButtonForm(FlaskForm):
    """A form that is only a button (confirm, withdraw): the CSRF token is what it carries."""
