"""Signers' addresses, and the emails written to them, sealed at rest: a copied database names no one.

Each value is encrypted with AES-256-GCM under ADDRESS_KEY, a key of its own (never SECRET_KEY, so
a leaked session key opens no address), with a fresh random nonce: the same address sealed twice
gives two different texts, so the database shows neither the address nor which rows share one.
Finding a signature by its address goes through the keyed hash beside it (addresses.email_hash).

A sealed value reads `v1.<key id>.<nonce + ciphertext, base64url>`; the key id (the first bytes of
the key's SHA-256) names the key that sealed it, so a value sealed under a key that has since moved
to ADDRESS_KEY_FALLBACKS still opens, and `flask privacy reseal` seals it again under the new key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from petition.config import DEVELOPMENT_ADDRESS_KEY, ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.engine import Dialect

PREFIX = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
# Bound into every sealed value: a value cut from one column cannot be opened as another's.
ASSOCIATED_DATA = b"petition address"


class SealingError(ValueError):
    """A sealed value that no configured key opens: damaged, or sealed under a key now gone."""


def make_key() -> str:
    """A new random key, as ADDRESS_KEY is written."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip("=")


def parse_key(text: str, name: str = "ADDRESS_KEY") -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"{name} must be {KEY_BYTES} random bytes in URL-safe base64; make one with: "
            "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
        )
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"address key id:" + key).hexdigest()[:8]


class Keys:
    """The key that seals, and every key that may open (it and the fallbacks), by id."""

    def __init__(self, current: str, fallbacks: list[str]) -> None:
        self.current = parse_key(current)
        self.current_id = key_id(self.current)
        self.by_id = {key_id(key): key for key in [parse_key(text, "ADDRESS_KEY_FALLBACKS") for text in fallbacks]}
        self.by_id[self.current_id] = self.current
        self._ciphers = {id_: AESGCM(key) for id_, key in self.by_id.items()}

    def seal(self, value: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_id].encrypt(nonce, value.encode(), ASSOCIATED_DATA)
        return f"{PREFIX}.{self.current_id}.{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"

    def open(self, text: str) -> str:
        try:
            prefix, id_, body = text.split(".", 2)
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            cipher = self._ciphers[id_]
        except (ValueError, KeyError, binascii.Error):
            raise SealingError("a sealed address that no configured key opens") from None
        if prefix != PREFIX:
            raise SealingError("a sealed address in an unknown form")
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA).decode()
        except InvalidTag:
            raise SealingError("a sealed address that no configured key opens") from None

    def is_current(self, text: str) -> bool:
        return text.startswith(f"{PREFIX}.{self.current_id}.")


_keys_cache: dict[tuple[str, tuple[str, ...]], Keys] = {}


def keys(config: Mapping[str, Any] | None = None) -> Keys:
    """The configured keys (made once per set of keys, not per value)."""
    config = config if config is not None else current_app.config
    cache_key = (config["ADDRESS_KEY"], tuple(config.get("ADDRESS_KEY_FALLBACKS") or ()))
    found = _keys_cache.get(cache_key)
    if found is None:
        found = _keys_cache[cache_key] = Keys(cache_key[0], list(cache_key[1]))
    return found


def seal(value: str) -> str:
    return keys().seal(value)


def unseal(text: str) -> str:
    return keys().open(text)


class Sealed(TypeDecorator[str]):
    """A text column whose values are sealed on the way in and opened on the way out: the code
    reads and writes plain addresses, the database only ever holds sealed ones."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else unseal(value)


# Every sealed column: (table, column). `reseal` walks them.
SEALED_COLUMNS = (("signatures", "email"), ("outgoing_emails", "to_address"), ("outgoing_emails", "body"))
RESEAL_BATCH = 1000


def reseal() -> int:
    """Seal again, under ADDRESS_KEY, every value sealed under an older key (one in
    ADDRESS_KEY_FALLBACKS): after it, the fallback can be dropped. Reads and writes the sealed text
    as it is stored, a batch at a time; how many values it sealed again. The caller commits."""
    from sqlalchemy import column, select, table, update

    from petition.extensions import db

    current = keys()
    changed = 0
    for table_name, column_name in SEALED_COLUMNS:
        stored = table(table_name, column("id"), column(column_name, Text))
        value = stored.c[column_name]
        last = 0
        while True:
            rows = db.session.execute(
                select(stored.c.id, value)
                .where(stored.c.id > last, value.is_not(None))
                .order_by(stored.c.id)
                .limit(RESEAL_BATCH)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            for id_, text in rows:
                if not current.is_current(text):
                    db.session.execute(
                        update(stored).where(stored.c.id == id_).values({column_name: current.seal(current.open(text))})
                    )
                    changed += 1
    return changed


def check_address_key(config: Mapping[str, Any]) -> None:
    """Production refuses the public development key: with it, anyone could open every address."""
    if config.get("ENV_NAME") == "production" and config.get("ADDRESS_KEY") == DEVELOPMENT_ADDRESS_KEY:
        raise ConfigurationError(
            "ADDRESS_KEY must be set in production, to a key of its own (not SECRET_KEY): it seals signers' "
            "addresses in the database. Make one with: "
            "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())' "
            "and keep it apart from the database's backups."
        )
    parse_key(config.get("ADDRESS_KEY") or "")
    for fallback in config.get("ADDRESS_KEY_FALLBACKS") or ():
        parse_key(fallback, "ADDRESS_KEY_FALLBACKS")
