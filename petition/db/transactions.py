"""Database connection settings that the URL alone cannot give, set on each app's own engine.

SQLite is tuned for a web server: write-ahead logging so readers never wait for the writer, a busy
timeout so writers queue instead of failing, and one rule for whether a transaction takes the write
lock when it begins. A transaction that reads first and writes later (deferred, plain BEGIN) would
fail at once (SQLITE_BUSY) when another writer got in between, instead of waiting its turn; one that
takes the lock at BEGIN IMMEDIATE waits its turn, but holds up every other writer while it runs. So:

- In a request, the method decides, once, in the "begin" listener (`request_reads`): a safe method
  (GET, HEAD, OPTIONS) reads, without the lock; any other (POST, PUT, PATCH, DELETE) takes the lock
  when its transaction begins. A view marks the exceptions: `@writes` on a GET that records
  something (an export in the audit log), `@reads_only` on a POST whose own transaction only reads
  (the sign form, which writes in a transaction of its own). A GET that finds, part way, that it
  must write after all (an organiser's login seen again, see accounts) calls `writing_from_here()`.
  Views call no other helper.
- Outside a request (the CLI, the mail worker) a transaction writes unless the code about to run
  declared that it only reads (`reading_only()`): the worker's poll, the export, the mirror's copy.

Transactions end at the boundary: services only flush (so a broken rule or a row changed meanwhile
surfaces in the view that called them), and each request commits once when it answered without a
server error (`commit_unless_failed`), each CLI command once when it finishes. The mail worker is a
boundary of its own: every claim and every delivery is its own short transaction (and every claim
and every sign of progress of a delivery copy it makes, see delivery/jobs.py); so is the sign form's
write of its signing (`own_transaction`, see signing.sign_now), whose writers wait their turn for
SQLite's lock in a line kept by the kernel (`writers_queue`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import Connection, CursorResult, Engine, Executable, event, exc

from petition.db.sqlite import BUSY_TIMEOUT_MS, take_write_lock
from petition.extensions import db

P = ParamSpec("P")

R = TypeVar("R")


DEFERRED = {"petition_reads_only": True}  # an execution option the "begin" listener reads


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # a request with one of these reads (request_reads)


def configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
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


def begin_sqlite(connection: Connection) -> None:
    reads = _begins_reading(connection)
    connection.info["petition_reading"] = reads  # for writing_from_here
    if reads:
        connection.exec_driver_sql("BEGIN")
    else:
        take_write_lock(connection)


def _begins_reading(connection: Connection) -> bool:
    """Whether the transaction now beginning only reads (the rule in this module's docstring)."""
    if connection.get_execution_options().get("petition_reads_only", False) or _read_only_next():
        return True
    return has_request_context() and request_reads()


def configure(app: Flask) -> None:
    """Listen on this app's engines only: other engines in the process are left as they are; and
    end every request's transaction."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", configure_sqlite)
            event.listen(engine, "begin", begin_sqlite)
        else:
            ping_when_idle(engine)
    app.after_request(commit_unless_failed)


# A pooled connection to a database server may have been closed by the server while it sat unused
# (a restart, an idle timeout). One that has been idle longer than this is pinged before it is used;
# if the ping fails the pool is emptied and a new connection made, so no request sees the stale one.
# Under load a connection is reused within milliseconds and not pinged: a ping on every checkout
# (SQLAlchemy's pool_pre_ping) is a round trip per request, a seventh of signing's throughput.
PING_AFTER_IDLE_SECONDS = 1.0


def ping_when_idle(engine: Engine) -> None:
    def note_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def ping_if_idle_long(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)  # none for a new connection: no ping needed
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError() from error  # the pool tries again with a new connection

    event.listen(engine, "checkin", note_idle)
    event.listen(engine, "checkout", ping_if_idle_long)


def commit_unless_failed(response: Response) -> Response:
    """The request's one commit. A 4xx answer commits too: a refused login is still a recorded
    attempt, and a form sent back with errors has written nothing. A 5xx rolls back."""
    if _session_at_work():
        if response.status_code < 500:
            db.session.commit()
        else:
            db.session.rollback()
    return response


def _session_at_work() -> bool:
    """Has this request's session a transaction or changes to end? None at all for a page from
    memory: then there is nothing to commit, and no session is opened to find that out."""
    if not db.session.registry.has():
        return False
    session = db.session()
    return bool(session.in_transaction() or session.new or session.dirty or session.deleted)


def rows_changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session's transaction; how many rows it changed."""
    result = cast("CursorResult[Any]", db.session.execute(statement))
    return result.rowcount


def reading_only() -> None:
    """The session's next transaction only reads: on SQLite it begins without the write lock, so
    it never waits for, or holds up, a writer. For the CLI and the mail worker, where writing is the
    default, and for a transaction of its own after a request's commit (an export's stream); a
    request's own transactions follow its method (request_reads). Call it before the transaction's
    first query; a transaction already under way is left as it is."""
    if not (db.session.registry.has() and db.session().in_transaction()):
        g.petition_read_only_next = True


def _read_only_next() -> bool:
    """Whether reading_only() asked for the transaction now beginning; the wish is used up by it, so
    the transaction after it takes the write lock again."""
    return has_app_context() and bool(g.pop("petition_read_only_next", False))


TRANSACTIONS = "petition_transactions"  # the attribute @writes and @reads_only set on a view


def request_reads() -> bool:
    """The request's rule: whether its transaction begins without the write lock. A safe method
    reads and any other writes, unless its view is marked (@writes, @reads_only) or the request has
    called writing_from_here()."""
    if g.get("petition_writes_from_here"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    while view is not None:  # the mark, on the view or on what a decorator wrapped
        marked = getattr(view, TRANSACTIONS, None)
        if marked is not None:
            return bool(marked == "reads")
        view = getattr(view, "__wrapped__", None)
    return request.method in SAFE_METHODS


def writes(view: Callable[P, R]) -> Callable[P, R]:
    """Decorator: this view writes though its method is safe (a GET that records something), so its
    transaction takes SQLite's write lock when it begins, and waits its turn for it."""
    setattr(view, TRANSACTIONS, "writes")
    return view


def reads_only(view: Callable[P, R]) -> Callable[P, R]:
    """Decorator: this view's own transaction only reads, though its method is unsafe (a POST that
    writes elsewhere, in a transaction of its own), so it begins without SQLite's write lock."""
    setattr(view, TRANSACTIONS, "reads")
    return view


def writing_from_here() -> None:
    """From here on this request writes: a transaction under way that began without the write lock
    (it has written nothing) is ended, so the next statement begins one that takes the lock and
    waits its turn for it; a request that writes already is left as it is. For a GET that finds, part
    way, that it must record something after all. Objects read so far are read again when used."""
    g.pop("petition_read_only_next", None)
    g.petition_writes_from_here = True
    if not db.session.registry.has():
        return
    session = db.session()
    unchanged = session.in_transaction() and not (session.new or session.dirty or session.deleted)
    if unchanged and session.connection().info.get("petition_reading"):
        session.rollback()
