"""Database connection settings that the URL alone cannot give.

SQLite is tuned for a web server: write-ahead logging so readers never wait for the writer, a busy
timeout so writers queue instead of failing, and transactions that will write take the write lock
when they begin (BEGIN IMMEDIATE). A transaction that reads first and writes later would otherwise
fail at once (SQLITE_BUSY) when another writer got in between, instead of waiting its turn.
"""

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 15000
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


@event.listens_for(Engine, "connect")
def configure_sqlite(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # The driver's own transaction handling is replaced by the "begin" listener below.
    dbapi_connection.isolation_level = None
    for pragma in (
        "foreign_keys = ON",
        "journal_mode = WAL",
        "synchronous = NORMAL",
        f"busy_timeout = {BUSY_TIMEOUT_MS}",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def transaction_may_write():
    """Page views that only read (GET on public pages and the API) begin deferred; everything
    else, form posts, organiser pages, the mail worker and commands, begins as a writer."""
    if not has_request_context():
        return True
    return request.method not in READ_ONLY_METHODS or request.blueprint == "organisers"


@event.listens_for(Engine, "begin")
def begin_sqlite(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if transaction_may_write() else "BEGIN")
