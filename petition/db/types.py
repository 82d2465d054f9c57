"""Column types and defaults every table shares: times kept in UTC, and the random secrets rows are made with."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DateTime,
    TypeDecorator,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Dialect
    from sqlalchemy.engine.default import DefaultExecutionContext


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_secret() -> str:
    return secrets.token_urlsafe(16)


def _from_email(derive: Callable[[str], str], column: str = "email") -> Callable[[DefaultExecutionContext], str | None]:
    """A column default worked out from the row's address (plain, before it is sealed), whoever
    inserts it."""

    def default(context: DefaultExecutionContext) -> str | None:
        email = context.get_current_parameters().get(column)
        return derive(email) if email else None

    return default


def _from_address(derive: Callable[[str], str]) -> Callable[[DefaultExecutionContext], str | None]:
    return _from_email(derive, "to_address")


class UTCDateTime(TypeDecorator):
    """Stores UTC and always gives back an aware datetime, on SQLite too (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# On SQLite, a deleted row's id would otherwise go to the next row: "signature #15" in the audit log
# must mean one signature for ever. (PostgreSQL's sequences never reuse an id.)
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
