from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Optional, Regexp

from ..fields import NoControlCharacters, TooLong, tidy_filter
from ..models import EMAIL_MAX

if TYPE_CHECKING:
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
