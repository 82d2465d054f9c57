"""Writing in a transaction of its own: SQLite's writers wait their turn in a line the kernel keeps
(a flock beside the database file); PostgreSQL runs one statement as its own transaction."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine

from petition.db.sqlite import BUSY_TIMEOUT_MS, _begin_immediate_polling, begin_immediate
from petition.extensions import db

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql import ClauseElement
    from sqlalchemy.sql.compiler import SQLCompiler


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
