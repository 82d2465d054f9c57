"""Error pages: a clear message, in the site's own layout, never a stack trace or an address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from petition.extensions import db

if TYPE_CHECKING:
    from flask import Flask

MESSAGES = {
    400: _l("The request could not be understood. If you were sending a form, go back, reload the page and try again."),
    403: _l("You do not have permission to see this page."),
    404: _l("There is no page at this address."),
    405: _l("This page cannot be used that way."),
    409: _l(
        "Someone changed or withdrew this at the same moment, so nothing was saved. Reload the page to see where things stand."  # noqa: E501 (one message for the catalogue)
    ),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing you did caused it; please try again shortly."),
}


def render_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    message = MESSAGES.get(code, error.description)
    return render_template("errors/error.html", code=code, message=message), code


def handle_http_error(error: HTTPException) -> tuple[str, int]:
    return render_error(error)


def handle_internal_error(error: InternalServerError) -> tuple[str, int]:
    # Flask has logged the original exception; the half-done transaction must not leak into the next request.
    db.session.rollback()
    return render_error(error)


def handle_concurrent_change(error: StaleDataError) -> tuple[str, int]:
    """Two requests changed one row at once (a correction and a withdrawal, a hide and a delete): the
    row this request meant to change is gone or changed. Roll back and say so, never a 500."""
    db.session.rollback()
    return render_template("errors/error.html", code=409, message=MESSAGES[409]), 409


def register(app: Flask) -> None:
    app.register_error_handler(StaleDataError, handle_concurrent_change)
    app.register_error_handler(ObjectDeletedError, handle_concurrent_change)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(HTTPException, handle_http_error)
