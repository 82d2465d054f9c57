"""The signed cookie that carries a visitor's session (the CSRF token, a message to show, an
organiser's login): Flask's own, with its serializer made once per set of keys."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

if TYPE_CHECKING:
    from flask import Flask


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's cookie session, unchanged but for one cost: Flask makes a new serializer each time a
    request opens or saves its session, and making one serializes a test value to learn what kind of
    output it gives (a sixtieth of signing's CPU, measured under load). The serializer keeps no
    state between uses, so one per set of keys serves every request; a new SECRET_KEY or fallback
    gets its own."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # Fallbacks first: itsdangerous signs with the last key and accepts any of them.
        keys = (*app.config["SECRET_KEY_FALLBACKS"], app.secret_key)
        return self._serializer(keys)

    @functools.lru_cache(maxsize=8)  # noqa: B019 (one interface per app, kept as long as it)
    def _serializer(self, keys: tuple[str | bytes, ...]) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            list(keys),  # type: ignore[arg-type]
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )
