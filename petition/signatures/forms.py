from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF, validate_csrf
from wtforms import BooleanField, EmailField, Field, Form, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, StopValidation, ValidationError

from petition.signatories import groups
from petition.signatures import confirmation_codes
from petition.signatures.models import AFFILIATION_MAX, EMAIL_MAX, NAME_MAX
from petition.web import locales
from petition.web.fields import NoControlCharacters, NotDisposable, TooLong, ValidEmail, VisibleText, tidy_filter

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict


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
    # Unticked until the signer ticks it: being named on this letter can carry personal risk, and a
    # name once public is copied (the delivery copy, mirrors of the list) beyond recall. Missing an
    # unticked box costs the letter one name on its list, never a signer their safety.
    listed = BooleanField(
        _l("Show my name and affiliation in the public list"),
        description=_l(
            "If you tick this, your name and affiliation are public: on this site, on copies of the list "
            "and in the copy delivered to the authorities. Without it you are counted but not named."
        ),
        default=False,
    )
    updates = BooleanField(
        _l("Email me news about this letter"),
        description=_l("Now and then: when it is delivered, when a reply comes. Every email has a link to stop them."),
        default=False,
    )


class SignatureForm(SignatoryDetailsForm):
    email = email_field(NotDisposable())
    # The page shows the address under the affiliation: its error summary lists mistakes in that order.
    shown_in_order = ("name", "affiliation", "email", "group", "listed", "updates")
    # Bots fill every field; people never see this one (hidden by a CSS class, not an inline style).
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    # When the form was shown, signed; a form sent back faster than a person can type is suspect.
    started = HiddenField()


class ResendForm(FlaskForm):
    email = email_field()


class ConfirmationCode:
    """Eight digits, as the email prints them or as typed (full-width digits, spaces, a dash)."""

    def __call__(self, form: Form, field: Field) -> None:
        if confirmation_codes.normalised(field.data or "") is None:
            raise ValidationError(_l("Enter the eight digits of the code in the email, for example 4821 0937."))


class CodeForm(FlaskForm):
    """Confirm with the code in the email, for a signer whose link does not open."""

    email = email_field()
    code = StringField(
        _l("Code from the email"),
        description=_l("Eight digits. Spaces do not matter."),
        filters=[tidy_filter],
        validators=[DataRequired(_l("Enter the code from the email.")), TooLong(40), ConfirmationCode()],
        render_kw={"maxlength": 40, "autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )


class ButtonForm(FlaskForm):
    """A form that is only a button (confirm, withdraw): the CSRF token is what it carries."""


class _Submitted:
    """What a validator reads of a bound field, and nothing else: the values sent, the processed data,
    the errors (DataRequired clears them) and the translation hooks."""

    __slots__ = ("data", "errors", "raw_data")

    def __init__(self, data: Any, raw_data: list[Any]) -> None:
        self.data, self.raw_data = data, raw_data
        self.errors: list[Any] = []

    @staticmethod
    def gettext(text: str) -> str:
        return text

    @staticmethod
    def ngettext(singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


_FIELDS: dict[type, tuple[tuple[str, UnboundField], ...]] = {}


def _fields(form_class: type[FlaskForm]) -> tuple[tuple[str, UnboundField], ...]:
    """The form's fields (worked out once per class); a TypeError for one data_when_valid cannot check."""
    if form_class in _FIELDS:
        return _FIELDS[form_class]
    fields = tuple(
        (name, value) for name in dir(form_class) if isinstance(value := getattr(form_class, name), UnboundField)
    )
    for name, unbound in fields:
        field_class = unbound.field_class
        checks_choices = issubclass(field_class, SelectField) and unbound.kwargs.get("validate_choice", True)
        known = issubclass(field_class, (StringField, BooleanField, SelectField)) and not checks_choices
        if not known or hasattr(form_class, f"validate_{name}"):
            raise TypeError(f"{form_class.__name__}.{name} is not a field data_when_valid knows how to check")
    _FIELDS[form_class] = fields
    return fields


def _processed(unbound: UnboundField, values: list[Any]) -> Any:
    """The field's data as WTForms' process() makes it from the values sent: then its filters."""
    field_class, options = unbound.field_class, unbound.kwargs
    default = options.get("default")
    default = default() if callable(default) else default
    if issubclass(field_class, BooleanField):
        data: Any = bool(values) and values[0] not in options.get("false_values", field_class.false_values)
    elif issubclass(field_class, SelectField):
        coerce = options.get("coerce", str)
        data = coerce(values[0]) if values else (coerce(default) if default is not None else None)
    else:
        data = values[0] if values else default
    for keep_or_change in options.get("filters", ()):
        data = keep_or_change(data)
    return data


def _passes(unbound: UnboundField, field: _Submitted) -> bool:
    """The field's validators in order, as WTForms runs them: a StopValidation without a message ends
    the chain with the field valid."""
    for validator in unbound.kwargs.get("validators", ()) or ():
        try:
            validator(None, field)
        except StopValidation as stop:
            return not (stop.args and stop.args[0])
        except ValidationError:
            return False
    return True


def data_when_valid(form_class: type[FlaskForm], formdata: MultiDict[str, Any]) -> dict[str, Any] | None:
    """What `form_class()` would hold as `.data` for this submission when it validates, worked out
    with the form's own fields, filters, validators and CSRF check but without building the form;
    None when it would not validate, and then the caller builds the form, which checks again and says
    what is wrong next to each field. WTForms binds an object per field for every form it builds:
    under load that was a fifth of a signing's CPU, and a form sent right needs none of it (see
    docs/decisions/0004-sign-form-fast-path.md)."""
    try:
        validate_csrf(formdata.get("csrf_token"))
    except ValidationError:
        return None
    data: dict[str, Any] = {}
    for name, unbound in _fields(form_class):
        values = formdata.getlist(name)
        try:
            field = _Submitted(_processed(unbound, values), values)
        except (ValueError, TypeError):
            return None
        if not _passes(unbound, field):
            return None
        data[name] = field.data
    return data
