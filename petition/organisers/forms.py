"""The forms of the organisers' pages: logging in, the second factor, the password, moderation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from petition.organisers import second_factor
from petition.organisers.accounts import PASSWORD_MIN
from petition.signatures.models import EMAIL_MAX
from petition.web.fields import NoControlCharacters, Publishable, TooLong, line_breaks_filter, tidy_filter

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString
    from wtforms.fields.core import UnboundField


REASON_MAX = 500


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        filters=[tidy_filter],
        validators=[DataRequired(_l("Enter your email address.")), TooLong(EMAIL_MAX)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), TooLong(1024)],
        render_kw={"autocomplete": "current-password"},
    )


def _code_field(pattern: re.Pattern[str], message: LazyString) -> UnboundField:
    return StringField(
        _l("Code"),
        filters=[second_factor.normalise_code],
        validators=[
            DataRequired(_l("Enter the code your authenticator app shows.")),
            Regexp(pattern, message=message),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "off", "maxlength": 32},
    )


class CodeForm(FlaskForm):
    """The second step of a login: six digits from the app, or a recovery code. Digits typed in other
    scripts or full width, spaces and hyphens are read as the code they spell."""

    code = _code_field(
        second_factor.CODE_OR_RECOVERY_CODE,
        _l("Enter the six digits your app shows, or one of your recovery codes."),
    )


class EnrolmentCodeForm(FlaskForm):
    """Enrolling: the six digits the app shows for the new secret."""

    code = _code_field(second_factor.TOTP_CODE, _l("Enter the six digits your app shows."))


def _new_password_field(label: LazyString) -> UnboundField:
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Enter a new password.")),
            Length(min=PASSWORD_MIN, message=_l("Use at least %(n)s characters.", n=PASSWORD_MIN)),
            TooLong(1024),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), TooLong(1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new = _new_password_field(_l("New password"))
    again = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new", message=_l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class LogoutForm(FlaskForm):
    """Only a CSRF token: logging out is a POST so another site cannot log an organiser out."""


def reason_field() -> UnboundField:
    return StringField(
        _l("Reason"),
        filters=[tidy_filter],
        validators=[
            DataRequired(_l("Give a reason; it goes into the audit log.")),
            TooLong(REASON_MAX),
            NoControlCharacters(),
        ],
        render_kw={"maxlength": REASON_MAX},
    )


class ModerationForm(FlaskForm):
    reason = reason_field()


class ApprovalForm(FlaskForm):
    """Approving a listing: most names need no comment, so the reason may be left empty."""

    reason = StringField(
        _l("Note (optional)"),
        filters=[tidy_filter],
        validators=[Optional(), TooLong(REASON_MAX), NoControlCharacters()],
        render_kw={"maxlength": REASON_MAX},
    )


class BulkHideForm(FlaskForm):
    domain = StringField(
        _l("Email domain"),
        description=_l("For example mailinator.com: addresses ending in @ and this domain."),
        filters=[lambda v: (tidy_filter(v) or "").lstrip("@").lower() if v else v],
        validators=[
            Optional(),
            TooLong(253),
            Regexp(r"^[a-z0-9.-]+\.[a-z0-9-]+$", message=_l("Enter a domain such as example.com.")),
        ],
    )
    since = DateTimeLocalField(
        _l("Signed from (UTC)"),
        description=_l("A day and time in UTC, such as 2026-11-29 14:30."),
        validators=[Optional()],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        invalid_value_message=_l("Enter a date and time, such as 2026-11-29 14:30."),
    )
    until = DateTimeLocalField(
        _l("Signed before (UTC)"),
        description=_l("A day and time in UTC, such as 2026-11-29 14:30."),
        validators=[Optional()],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        invalid_value_message=_l("Enter a date and time, such as 2026-11-29 14:30."),
    )
    reason = reason_field()

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not (self.domain.data or self.since.data or self.until.data):
            self.domain.errors.append(_l("Give a domain, a time window, or both."))
            return False
        if valid and self.since.data and self.until.data and self.since.data >= self.until.data:
            self.until.errors.append(_l("The end of the window must come after its start."))
            return False
        return valid


def _text(label: LazyString, limit: int, area: bool = False) -> UnboundField:
    field = TextAreaField if area else StringField
    return field(
        label,
        filters=[line_breaks_filter] if area else [tidy_filter],
        validators=[
            DataRequired(_l("Write this in both languages.")),
            Publishable(),
            TooLong(limit),
            NoControlCharacters(allow_line_breaks=area),
        ],
        render_kw={"maxlength": limit, **({"rows": 8} if area else {})},
    )
