"""The Host header is the visitor's to write: the site never builds an address from it, and a Host
that is not a host name (a 64-character label, spaces, a path) is answered with 400, not a crash."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import abort, request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"  # "_": container names (my_app:8000)
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?$")
BAD_HOST = "petition.bad_host"
STAND_IN = "invalid.host"  # lets the request be routed to the error page; never shown or linked


def is_well_formed(host: str) -> bool:
    return len(host) <= 260 and bool(_HOST.match(host))


class RejectMalformedHost:
    """WSGI middleware: a malformed Host is swapped for a stand-in, so Flask can build the request
    and answer 400 in the site's own layout (see refuse_malformed_host)."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host is not None and not is_well_formed(host):
            environ["HTTP_HOST"], environ[BAD_HOST] = STAND_IN, True
        return self.app(environ, start_response)


def refuse_malformed_host() -> None:
    if request.environ.get(BAD_HOST):
        abort(400)


def register(app: Flask) -> None:
    # Inside ProxyFix (added later, so it wraps this): a forwarded host is checked too.
    app.wsgi_app = RejectMalformedHost(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(refuse_malformed_host)
