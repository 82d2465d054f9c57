"""SQLite's write lock: taken when a transaction begins (BEGIN IMMEDIATE), tried again every fraction
of a millisecond while another writer holds it, so a writer starts as soon as the lock comes free."""

from __future__ import annotations

import itertools
import sqlite3
import time
from typing import cast

from sqlalchemy import Connection

BUSY_TIMEOUT_MS = 15000


# Waits between tries for the write lock: short, so a writer starts within a fraction of a
# millisecond of the lock coming free. SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms
# between tries: with five processes queueing for a lock each holds for a millisecond or two, a
# writer that has slept once sleeps past many turns, and the slowest signings took a second.
LOCK_RETRY_SECONDS = (0.0002, 0.0005, 0.001, 0.002)


def take_write_lock(connection: Connection) -> None:
    """BEGIN IMMEDIATE, tried again every fraction of a millisecond; after BUSY_TIMEOUT_MS, one
    last try through SQLAlchemy gives the usual "database is locked" error."""
    if not begin_immediate(cast("sqlite3.Connection", connection.connection.dbapi_connection)):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_immediate(dbapi_connection: sqlite3.Connection, deadline: float | None = None) -> bool:
    """Try BEGIN IMMEDIATE every fraction of a millisecond until `deadline` (time.monotonic(); by
    default BUSY_TIMEOUT_MS from now); whether it began. SQLite's busy handler is off meanwhile."""
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        return _begin_immediate_polling(dbapi_connection, deadline or time.monotonic() + BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error:
        return False  # the caller's BEGIN IMMEDIATE through SQLAlchemy raises it as usual
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _begin_immediate_polling(dbapi_connection: sqlite3.Connection, deadline: float) -> bool:
    """BEGIN IMMEDIATE, tried every fraction of a millisecond until `deadline`, on a connection whose
    busy handler is off; whether it began. Another error than a lock held is raised."""
    for tries in itertools.count():
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            if time.monotonic() > deadline:
                return False
        time.sleep(LOCK_RETRY_SECONDS[min(tries, len(LOCK_RETRY_SECONDS) - 1)])
    return False
