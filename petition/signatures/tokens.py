"""Signed, single-purpose links for a signature: confirm it, manage it (correct or withdraw), or stop its news."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from petition.extensions import db
from petition.letter import closing
from petition.signatures.models import Signature

CONFIRM = "confirm"
MANAGE = "manage"
UNSUBSCRIBE = "unsubscribe"


class LinkExpired(Exception):
    """The link was genuine but is too old."""


class LinkTooLate(LinkExpired):
    """A confirmation link issued after signing closed (closing.link_confirms)."""


class LinkInvalid(Exception):
    """The link was altered, is for another purpose, or its signature no longer exists."""


def signing_keys() -> list[str]:
    """Every key a signed value may carry, oldest first: itsdangerous signs with the last (the
    current SECRET_KEY) and accepts any, so links made before a key rotation keep working."""
    config = current_app.config
    return [*config.get("SECRET_KEY_FALLBACKS", []), config["SECRET_KEY"]]


def _signer_at(moment: float) -> type[TimestampSigner]:
    """A signer whose clock says `moment` (seconds since the epoch): a link made at a given time."""

    class SignerAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(moment)

    return SignerAt


def _serializer(purpose: str, made_at: float | None = None) -> URLSafeTimedSerializer:
    # The salt makes a token for one purpose useless for the other.
    signer = TimestampSigner if made_at is None else _signer_at(made_at)
    return URLSafeTimedSerializer(signing_keys(), salt=f"signature-{purpose}", signer=signer)


def make_token(signature: Signature, purpose: str, made_at: float | None = None) -> str:
    """The link's token; `made_at` (epoch seconds) dates it, as if it had been made then."""
    return _serializer(purpose, made_at).dumps([signature.id, signature.secret])


def read_token(token: str, purpose: str) -> Signature:
    """The signature a token names. Raises LinkExpired or LinkInvalid; a confirmation link lasts
    CONFIRM_MAX_AGE after it was issued, and one issued after signing closed raises LinkTooLate."""
    max_age = current_app.config["CONFIRM_MAX_AGE"] if purpose == CONFIRM else None
    try:
        (signature_id, secret), issued_at = _serializer(purpose).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise LinkExpired() from None
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid() from None
    if purpose == CONFIRM and not closing.link_confirms(issued_at):
        raise LinkTooLate()
    signature = db.session.get(Signature, signature_id) if isinstance(signature_id, int) else None
    if signature is None or signature.secret != secret:
        raise LinkInvalid()
    return signature
