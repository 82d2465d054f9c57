from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..fields import tidy_filter
from ..models import EMAIL_MAX


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"), filters=[tidy_filter],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=EMAIL_MAX)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class LogoutForm(FlaskForm):
    """Only a CSRF token: logging out is a POST so another site cannot log an organiser out."""
