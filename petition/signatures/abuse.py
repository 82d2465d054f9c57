"""Telling people from bots and floods without locking out real scholars."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from petition.extensions import limiter
from petition.signatures.tokens import signing_keys

if TYPE_CHECKING:
    from flask_limiter._limits import RouteLimit


def configured_limit(setting: str) -> Callable[[], str]:
    """A Flask-Limiter limit read from the configuration when a request comes (tests lower it)."""
    return lambda: current_app.config[setting]


def list_limit() -> RouteLimit:
    """The list of names, on every page address and in the API, draws on one budget per client
    (LIST_LIMIT_PER_IP): a harvester gets no more by spreading its requests over them."""
    return limiter.shared_limit(configured_limit("LIST_LIMIT_PER_IP"), scope="signatories-list")


def ip_hash(address: str | None) -> str:
    """A keyed hash of an IP address: lets organisers see that many signatures came from one place
    without the site keeping where anyone was."""
    key = current_app.config.get("IP_HASH_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(f"ip-hash:{key}".encode(), (address or "").encode(), hashlib.sha256).hexdigest()


def _form_clock() -> URLSafeSerializer:
    return _serializer_for(tuple(signing_keys()))


@functools.lru_cache(maxsize=8)
def _serializer_for(keys: tuple[str, ...]) -> URLSafeSerializer:
    # Made once per set of keys: making one costs more than signing with it.
    return URLSafeSerializer(list(keys), salt="form-started")


def form_started_token(now: float | None = None) -> str:
    """A signed note of when the form was shown, sent back with it."""
    return _form_clock().dumps(round(now if now is not None else time.time(), 3))


def seconds_to_fill(token: str | None, now: float | None = None) -> float | None:
    """How long the form took to fill in, or None if the note is missing or forged."""
    try:
        started = _form_clock().loads(token or "")
    except BadSignature:
        return None
    if not isinstance(started, (int, float)):
        return None
    return round((now if now is not None else time.time()) - started, 1)


def looks_like_a_bot(honeypot: str | None) -> bool:
    """A hidden field a person never sees was filled. Speed alone is no proof: a browser's autofill
    sends the form in a second or two, so timing is recorded (fill_seconds) for organisers, never
    used to hold a signature back in silence."""
    return bool(honeypot)


def is_fast(fill_seconds: float | None) -> bool:
    """Sent sooner than SIGN_MIN_SECONDS after the form was shown: a hint for organisers."""
    return fill_seconds is not None and fill_seconds < current_app.config["SIGN_MIN_SECONDS"]
