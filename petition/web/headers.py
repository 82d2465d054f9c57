"""Headers on every response: nothing loads from another origin, nothing leaks where readers came from."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import current_app, g, make_response, request

if TYPE_CHECKING:
    from flask import Flask, Response
    from flask.typing import ResponseReturnValue

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


# The site uses no camera, microphone, location, payment or similar: no page, and nothing injected
# into one, may ask for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
        "browsing-topics",
    )
)
VARY_BY_READER = ("Accept-Language", "Cookie")
# Once a browser has seen the site over HTTPS it never tries plain HTTP again for two years.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    # Readers who follow a link out should not tell the other site they came from here.
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
)


def add_security_headers(response: Response) -> Response:
    """Each header unless the view set its own (one look at the headers, not one per header: this
    runs on every response)."""
    present = {name.lower() for name, _value in response.headers.items()}
    response.headers.extend([(name, value) for name, value in SECURITY_HEADERS if name.lower() not in present])
    if request.is_secure:  # HTTPS here, or as a trusted proxy says (TRUSTED_PROXIES, X-Forwarded-Proto)
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if g.get("language_negotiated"):
        # The page's language came from the reader (cookie or browser), not its address: caches
        # must keep one reader's language from another.
        vary_by_reader(response, present)
    return response


def vary_by_reader(response: Response, present: set[str]) -> None:
    """Vary: Accept-Language, Cookie; added to what the view said, if it said anything (parsing and
    rewriting the header costs more than all the other headers here, and most pages set none)."""
    if "vary" in present:
        response.vary.update(VARY_BY_READER)
    else:
        response.headers["Vary"] = ", ".join(VARY_BY_READER)


def keep_private(response: Response) -> Response:
    """A page with email addresses or a signer's private link: never kept by a cache or indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def private_page(view: Callable[..., ResponseReturnValue]) -> Callable[..., Response]:
    """Decorator: the view's pages are kept private (see keep_private)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return keep_private(make_response(view(*args, **kwargs)))

    return wrapper


def list_exposure(view: Callable[..., ResponseReturnValue]) -> Callable[..., Response]:
    """Decorator for the list of names and its API: search engines are asked not to index it unless
    the organisers chose otherwise (LIST_INDEXABLE), so a name is not one search away from its signer."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        if not current_app.config["LIST_INDEXABLE"]:
            response.headers["X-Robots-Tag"] = "noindex"
        return response

    return wrapper


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
