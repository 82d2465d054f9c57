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
and every sign of progress of a delivery copy it makes, see delivery_jobs); so is the sign form's
write of its signing (`own_transaction`, see signing.sign_now), whose writers wait their turn for
SQLite's lock in a line kept by the kernel (`writers_queue`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import itertools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import Connection, CursorResult, Engine, Executable, event, exc

from .extensions import db

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql import ClauseElement
    from sqlalchemy.sql.compiler import SQLCompiler

P = ParamSpec("P")
R = TypeVar("R")

BUSY_TIMEOUT_MS = 15000
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


@dataclass
class _WritersQueue:
    lock_file: int | None  # this process's own descriptor of the lock file; None: it cannot be opened
    threads: threading.Lock  # flock does not keep apart threads sharing a descriptor
    # This process's own connection for writing in line (see own_transaction); made on first use.
    connection: sqlite3.Connection | None = None


_writers_queues: dict[tuple[int, str], _WritersQueue] = {}


@contextlib.contextmanager
def writers_queue(engine: Engine, deadline: float) -> Iterator[_WritersQueue | None]:
    """Wait in line, in the kernel, for the turn to write to this SQLite file: the processes (and
    threads) that write through own_transaction hold an exclusive flock on a file beside the database
    while they take SQLite's write lock, write and commit. A writer that finishes wakes the next one
    at once; without the line, five workers on two cores polled for the lock every fraction of a
    millisecond, which cost a sixth of signing's CPU (docs/decisions/0003-sqlite-writers-line.md).
    The line only makes waiting cheaper: SQLite's own lock still decides, so a writer outside the
    line (a request's transaction, the CLI) is kept apart as before, and a lock file that cannot be
    opened (another user's, say) only means writers poll for the lock as they did before. Yields
    this process's place in the line; None (and no line) for another database or a database in
    memory."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        yield None
        return
    queue = _queue_of_this_process(path)
    if not queue.threads.acquire(timeout=max(deadline - time.monotonic(), 0)):
        raise sqlite3.OperationalError("database is locked")
    try:
        if queue.lock_file is None:
            yield queue
            return
        fcntl.flock(queue.lock_file, fcntl.LOCK_EX)
        try:
            yield queue
        finally:
            fcntl.flock(queue.lock_file, fcntl.LOCK_UN)
    finally:
        queue.threads.release()


def _queue_of_this_process(path: str) -> _WritersQueue:
    # Opened in each process: a descriptor inherited across gunicorn's fork would be one open file
    # for all workers, and flock would not keep them apart. Read-only is enough for flock.
    key = (os.getpid(), path)
    if key not in _writers_queues:
        try:
            lock_file: int | None = os.open(f"{path}-writers", os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError as error:
            logging.getLogger(__name__).warning("No writers' line for %s (%s): writers poll for the lock", path, error)
            lock_file = None
        _writers_queues[key] = _WritersQueue(lock_file, threading.Lock())
    return _writers_queues[key]


@contextlib.contextmanager
def own_transaction() -> Iterator[Any]:
    """A short transaction of its own on a driver connection, for the hottest write (a signing on the
    sign form): begun, run and committed with no ORM work in between, so SQLite's single
    write lock is held for the statements alone. Committed on leaving (a transaction boundary, like a
    request's commit), rolled back on an error. On SQLite, writers wait their turn in writers_queue;
    one that has waited BUSY_TIMEOUT_MS in all gets "database is locked". Yields a driver cursor."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    engine = db.engine
    with writers_queue(engine, deadline) as queue:
        if queue is None:
            with _pooled_transaction(engine, deadline) as cursor:
                yield cursor
            return
        connection = _begun_in_line(engine, queue, deadline)
        try:
            with _committed(connection) as cursor:
                yield cursor
        except sqlite3.Error:
            _drop_if_broken(queue)
            raise


def _begun_in_line(engine: Engine, queue: _WritersQueue, deadline: float) -> sqlite3.Connection:
    """The process's line connection with its write transaction begun. One that can no longer be used
    (nothing has been written on it yet) is replaced, once, so it costs no signer their signature."""
    try:
        return _begun(queue.connection or _line_connection(engine, queue), deadline)
    except sqlite3.Error:
        if not _drop_if_broken(queue):
            raise
    return _begun(_line_connection(engine, queue), deadline)


def _begun(connection: sqlite3.Connection, deadline: float) -> sqlite3.Connection:
    if not _begin_immediate_polling(connection, deadline):
        raise sqlite3.OperationalError("database is locked")
    return connection


def _line_connection(engine: Engine, queue: _WritersQueue) -> sqlite3.Connection:
    """The connection this process writes with in line, kept out of the pool: made by the engine (so
    with its settings), with SQLite's busy handler off for good, since writers in line poll for the
    lock themselves. Taking one from the pool and giving it back for each signature, and switching
    the busy handler off and on around each BEGIN, cost a thirtieth of signing's CPU."""
    pooled = engine.raw_connection()
    connection = cast("sqlite3.Connection", pooled.dbapi_connection)
    pooled.detach()
    connection.execute("PRAGMA busy_timeout = 0")
    queue.connection = connection
    return connection


def _drop_if_broken(queue: _WritersQueue) -> bool:
    """After an error: a connection that can no longer answer is closed, so the next writer makes a
    new one (whether it was); one that refused a row or found the database locked is kept."""
    connection = queue.connection
    if connection is None:
        return False
    try:
        connection.execute("SELECT 1")
        return False
    except sqlite3.Error:
        with contextlib.suppress(sqlite3.Error):
            connection.close()
        queue.connection = None
        return True


@contextlib.contextmanager
def _pooled_transaction(engine: Engine, deadline: float) -> Iterator[Any]:
    """own_transaction on a pooled connection, where there is no line (a database in memory)."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if isinstance(driver, sqlite3.Connection) and not begin_immediate(driver, deadline):
            raise sqlite3.OperationalError("database is locked")
        with _committed(raw) as cursor:
            yield cursor
    finally:
        raw.close()  # back to the pool


@contextlib.contextmanager
def _committed(connection: Any) -> Iterator[Any]:
    """A cursor on a connection whose transaction has begun: committed after the caller's block, rolled
    back if it raised."""
    cursor = connection.cursor()
    try:
        yield cursor
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()


@contextlib.contextmanager
def own_statement() -> Iterator[Any]:
    """PostgreSQL: one statement that is a transaction of its own (autocommit), on a pooled driver
    connection; no BEGIN and no COMMIT, so it costs one round trip to the server. Yields a driver
    cursor for that one statement (a statement with data-modifying CTEs writes several tables, all or
    nothing)."""
    raw = db.engine.raw_connection()
    try:
        driver = cast("Any", raw.driver_connection)  # a psycopg connection
        driver.autocommit = True
        try:
            cursor = raw.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            driver.autocommit = False
    finally:
        raw.close()  # back to the pool


@dataclass(frozen=True)
class DriverStatement:
    """A Core statement compiled once for one dialect, to be run on a driver cursor: its SQL, and how
    to turn a dict of values into the driver's parameters with the columns' own conversions."""

    sql: str
    positional: tuple[str, ...] | None  # the order of the parameters, for a positional driver
    processors: dict[str, Callable[[Any], Any] | None]
    defaults: dict[str, Any]

    def run(self, cursor: Any, values: dict[str, Any]) -> Any:
        """Execute it on a driver cursor with these values; the cursor, to fetch from."""
        merged = {**self.defaults, **values}
        converted = {
            name: (process(merged[name]) if process else merged[name]) for name, process in self.processors.items()
        }
        parameters = [converted[name] for name in self.positional] if self.positional is not None else converted
        cursor.execute(self.sql, parameters)
        return cursor


@functools.cache  # per statement and dialect: both live as long as the process
def driver_statement(statement: ClauseElement, dialect: Dialect) -> DriverStatement:
    compiled = cast("SQLCompiler", statement.compile(dialect=dialect))
    binds = compiled.binds
    return DriverStatement(
        sql=compiled.string,
        positional=tuple(compiled.positiontup or ()) if dialect.positional else None,
        # The dialect's own form of each type (PostgreSQL's JSON, say), as SQLAlchemy itself uses.
        processors={name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in binds.items()},
        defaults={name: bind.value for name, bind in binds.items() if bind.value is not None},
    )


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
