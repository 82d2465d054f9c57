"""Telling people from bots and floods without locking out real scholars."""
import hashlib
import hmac
import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .tokens import signing_keys


def ip_hash(address):
    """A keyed hash of an IP address: lets organisers see that many signatures came from one place
    without the site keeping where anyone was."""
    key = current_app.config.get("IP_HASH_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(f"ip-hash:{key}".encode(), (address or "").encode(), hashlib.sha256).hexdigest()


def _form_clock():
    return URLSafeSerializer(signing_keys(), salt="form-started")


def form_started_token(now=None):
    """A signed note of when the form was shown, sent back with it."""
    return _form_clock().dumps(round(now if now is not None else time.time(), 3))


def seconds_to_fill(token, now=None):
    """How long the form took to fill in, or None if the note is missing or forged."""
    try:
        started = _form_clock().loads(token or "")
    except BadSignature:
        return None
    return (now if now is not None else time.time()) - started if isinstance(started, (int, float)) else None


def looks_like_a_bot(honeypot, started_token, now=None):
    """A hidden field a person never sees was filled, or the form came back impossibly fast."""
    if honeypot:
        return True
    minimum = current_app.config["SIGN_MIN_SECONDS"]
    if minimum <= 0:
        return False
    elapsed = seconds_to_fill(started_token, now)
    return elapsed is None or elapsed < minimum
