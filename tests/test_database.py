"""Connection settings belong to the app's own engine, and reads take no write lock on SQLite."""

import sqlite3
import time

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy import update as sa_update

from petition.db import sqlite, transactions
from petition.db import writers_queue as db_writers_queue
from petition.extensions import db
from petition.mail.worker import deliver_due
from petition.signatures.models import Signature
from tests.support import is_postgresql, server_drops_the_pools_connection


def test_another_engine_in_the_process_keeps_its_own_settings(app):
    # The listeners used to sit on every Engine in the process.
    other = create_engine("sqlite://")
    with other.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 0
    other.dispose()


def test_the_apps_own_sqlite_engine_is_tuned(app):
    if is_postgresql(app):
        return  # nothing to tune: PostgreSQL has row locks
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


@pytest.fixture
def writer_holding_the_lock(app):
    """Another process's writer, in the middle of a transaction (BEGIN IMMEDIATE) on SQLite."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    connection = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    yield connection
    connection.execute("ROLLBACK")
    connection.close()


def test_a_read_only_transaction_neither_waits_for_nor_holds_up_a_writer(app, request):
    if is_postgresql(app):
        return  # PostgreSQL readers never take a write lock
    writer = request.getfixturevalue("writer_holding_the_lock")
    with app.app_context():
        transactions.reading_only()
        assert db.session.execute(select(Signature)).all() == []  # no wait for the writer's lock
        writer.execute(
            "INSERT INTO login_attempts (created_at, email, ip_hash, succeeded) "
            "VALUES ('2026-01-01 00:00:00', 'a@example.org', 'x', 0)"
        )  # and it writes meanwhile
        db.session.rollback()


def test_the_mail_workers_poll_takes_no_write_lock(app, request):
    if is_postgresql(app):
        return
    request.getfixturevalue("writer_holding_the_lock")
    with app.app_context():
        report = deliver_due()  # nothing due: only looked, while a signer was writing
        assert (report.sent, report.retrying, report.failed) == (0, 0, 0)
        db.session.remove()


def test_public_pages_are_served_while_a_writer_holds_the_lock(app, client, request):
    if is_postgresql(app):
        return
    request.getfixturevalue("writer_holding_the_lock")
    for path in ("/", "/signatories", "/api/counts", "/api/signatories", "/healthz", "/sign"):
        assert client.get(path).status_code == 200, path


def test_a_signing_form_with_mistakes_is_answered_while_a_writer_holds_the_lock(app, client, request):
    """Reading and checking a signature take no write lock: only writing it does (a busy moment never
    holds up the answer "this address is not valid")."""
    if is_postgresql(app):
        return
    from tests.support import csrf_token, signature_form

    token = csrf_token(client, "/sign")
    request.getfixturevalue("writer_holding_the_lock")
    response = client.post("/sign", data={**signature_form(email="not an address"), "csrf_token": token})
    assert response.status_code == 422


def test_a_writer_waits_for_the_lock_and_gets_it_when_it_comes_free(app):
    if is_postgresql(app):
        return
    import threading

    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    with app.app_context():
        db.session.execute(text("DELETE FROM login_attempts"))  # begins by waiting for the lock
        db.session.commit()
    other.close()


def test_a_writer_that_waits_too_long_gets_the_usual_error(app, monkeypatch):
    if is_postgresql(app):
        return
    from sqlalchemy.exc import OperationalError

    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 200)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with app.app_context(), pytest.raises(OperationalError, match="locked"):
            db.session.execute(text("DELETE FROM login_attempts"))
    finally:
        other.execute("ROLLBACK")
        other.close()


def _queue_file(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///") + "-writers"


def _count_login_attempts(cursor):
    cursor.execute("SELECT count(*) FROM login_attempts")
    return cursor.fetchone()[0]


def test_a_writer_in_line_waits_for_the_one_before_and_then_writes(app):
    """The sign form's writers queue on a lock file beside the database: one that finds the line
    held (here by another process's descriptor) goes in when it is let go, not before, and writes."""
    if is_postgresql(app):
        return
    import fcntl
    import os
    import threading
    import time

    other = os.open(_queue_file(app), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    let_go = []
    threading.Timer(0.3, lambda: (let_go.append(time.monotonic()), fcntl.flock(other, fcntl.LOCK_UN))).start()
    with app.app_context():
        with db_writers_queue.own_transaction() as cursor:
            went_in = time.monotonic()
            cursor.execute("DELETE FROM login_attempts")
        with db_writers_queue.own_transaction() as cursor:
            assert _count_login_attempts(cursor) == 0
    os.close(other)
    assert let_go and went_in >= let_go[0]


def _go_in_after_the_parent(app, went_in):
    with app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections are the parent's
        with db_writers_queue.own_transaction():
            went_in.put(time.time())


def test_a_forked_worker_waits_in_the_same_line_as_its_parent(app):
    """gunicorn forks its workers: a descriptor inherited from the parent would be the same open
    file in both, and flock would not keep them apart."""
    if is_postgresql(app):
        return
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    went_in = fork.Queue()
    with app.app_context():
        with db_writers_queue.writers_queue(db.engine, time.monotonic() + 10):  # the line only, not SQLite's lock
            child = fork.Process(target=_go_in_after_the_parent, args=(app, went_in))
            child.start()
            time.sleep(0.3)
            let_go = time.time()
        child.join(20)
    assert child.exitcode == 0
    assert went_in.get(timeout=5) >= let_go


def test_a_lock_file_that_cannot_be_opened_leaves_writers_writing(tmp_path, caplog):
    """The line only makes waiting cheaper: when its file cannot be made (here its name points into a
    directory that does not exist; in production, another user's file), writers still write, and the
    log says why they poll instead."""
    path = tmp_path / "other.sqlite3"
    (tmp_path / "other.sqlite3-writers").symlink_to(tmp_path / "no-such-directory" / "writers")
    engine = create_engine(f"sqlite:///{path}")
    try:
        with db_writers_queue.writers_queue(engine, time.monotonic() + 5), engine.begin() as connection:
            connection.execute(text("CREATE TABLE written (id INTEGER)"))
            connection.execute(text("INSERT INTO written VALUES (1)"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM written")).scalar_one() == 1
    finally:
        engine.dispose()
    assert "No writers' line" in caplog.text


def test_a_writer_that_waits_too_long_in_line_gets_the_usual_error_and_leaves_the_line(app, monkeypatch):
    if is_postgresql(app):
        return
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 200)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)  # a writer outside the line, holding SQLite's lock
    other.execute("BEGIN IMMEDIATE")
    with app.app_context():
        with pytest.raises(sqlite3.OperationalError, match="locked"), db_writers_queue.own_transaction():
            pass
        other.execute("ROLLBACK")
        other.close()
        with db_writers_queue.own_transaction() as cursor:  # the line is free again, and so is the lock
            assert _count_login_attempts(cursor) == 0


def _sign_in_line(email):
    from petition.signatures.signing import sign_now

    sign_now(name="In Line", affiliation="Uni", email=email, group="chinese")


def _stored_addresses():
    """The address of every signing the sign form wrote (the worker has yet to take them)."""
    from petition.mail.models import OutgoingEmail

    return set(db.session.execute(select(OutgoingEmail.to_address)).scalars())


def test_a_writers_connection_that_can_no_longer_be_used_is_replaced_without_losing_the_signature(app):
    """Each process writes in line with a connection of its own, kept out of the pool; if it breaks
    (here it is closed under it), the next signing makes a new one instead of failing."""
    if is_postgresql(app):
        return
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with app.app_context():
        _sign_in_line("before@example.org")
        db_writers_queue._queue_of_this_process(path).connection.close()
        _sign_in_line("after@example.org")
        assert _stored_addresses() == {"before@example.org", "after@example.org"}


def _sign_in_a_forked_worker(app, parent_pid, result):
    import os

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections are the parent's
        _sign_in_line("child@example.org")
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        own = db_writers_queue._writers_queues[(os.getpid(), path)].connection
        result.put(own is not None and own is not db_writers_queue._writers_queues[(parent_pid, path)].connection)


def test_a_forked_worker_writes_with_a_connection_of_its_own(app):
    """A SQLite connection must not cross a fork: gunicorn's workers each make their own, and the
    parent's and the child's signatures are all kept in a sound database."""
    if is_postgresql(app):
        return
    import multiprocessing
    import os

    fork = multiprocessing.get_context("fork")
    result = fork.Queue()
    with app.app_context():
        _sign_in_line("parent@example.org")
        db.session.remove()
        child = fork.Process(target=_sign_in_a_forked_worker, args=(app, os.getpid(), result))
        child.start()
        child.join(20)
        assert child.exitcode == 0 and result.get(timeout=5) is True
        _sign_in_line("parent-again@example.org")
        assert _stored_addresses() == {"parent@example.org", "child@example.org", "parent-again@example.org"}
        assert db.session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"


def test_a_pooled_connection_the_server_closed_while_it_sat_idle_is_replaced_unnoticed(app, monkeypatch):
    """PostgreSQL restarted, or dropped an idle connection: the next request still gets its answer
    (a connection idle longer than PING_AFTER_IDLE_SECONDS is pinged before use)."""
    if not is_postgresql(app):
        return  # SQLite has no server to lose
    monkeypatch.setattr(transactions, "PING_AFTER_IDLE_SECONDS", 0.05)
    with app.app_context():
        backend = server_drops_the_pools_connection(app)
        time.sleep(0.1)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != backend


# The transaction boundaries: a request (transactions.commit_unless_failed, and the error handlers
# that roll back), a CLI command (db/commands.commits, and each feature's cli.py) and the mail
# worker's claims (mail/worker.py). Everywhere else flushes. writers_queue.py: the sign form's own
# short transaction. delivery/jobs.py: the worker making a delivery copy writes its claim and its
# progress as it goes. inbound/imap.py: `mail fetch` commits each message before it leaves the mailbox.
BOUNDARIES = {
    "transactions.py",
    "writers_queue.py",
    "commands.py",
    "errors.py",
    "cli.py",
    "worker.py",
    "jobs.py",
    "imap.py",
}


def test_only_the_boundaries_commit():
    import ast
    from pathlib import Path

    package = Path(transactions.__file__).parents[1]
    offenders = [
        f"{path.relative_to(package)}:{node.lineno}"
        for path in package.rglob("*.py")
        if path.name not in BOUNDARIES and "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("commit", "rollback")
    ]
    assert offenders == []


def test_a_request_keeps_what_it_wrote_when_it_answers_and_nothing_when_it_fails(app_factory):
    from petition.signatures.signing import sign

    site = app_factory(PROPAGATE_EXCEPTIONS=False)

    @site.get("/test-sign/<email>/<outcome>")
    @transactions.writes
    def sign_then(email, outcome):
        sign(name="Ada", affiliation="U", email=email, group="chinese")
        if outcome == "fail":
            raise RuntimeError("broke after signing")
        return "signed"

    client = site.test_client()
    assert client.get("/test-sign/kept@example.org/ok").status_code == 200
    assert client.get("/test-sign/lost@example.org/fail").status_code == 500
    with site.app_context():
        assert db.session.execute(select(Signature.email)).scalars().all() == ["kept@example.org"]


def _release_after(writer, seconds):
    """The other writer commits after `seconds`, from another thread."""
    import threading

    timer = threading.Timer(seconds, lambda: writer.execute("COMMIT"))
    timer.start()
    return timer


@pytest.fixture
def other_writer(app):
    """Another process's writer on SQLite, able to hold the lock from any thread (None on PostgreSQL)."""
    if is_postgresql(app):
        yield None
        return
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


def test_an_organisers_page_is_served_while_a_writer_holds_the_lock(app, organiser_client, other_writer, monkeypatch):
    """A GET reads: the dashboard does not wait for a signer's write (nor hold one up)."""
    if is_postgresql(app):
        return
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 500)  # a GET that took the lock would fail in half a second
    other_writer.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    for path in ("/organisers/", "/organisers/account", "/organisers/updates"):
        assert organiser_client.get(path).status_code == 200, path
    assert time.monotonic() - started < 0.5


def test_an_organisers_page_that_records_the_login_seen_waits_its_turn(app, organiser_client, other_writer):
    """The one write an organiser's GET can make (the login seen again, once a minute) waits for the
    lock instead of failing at once, as a transaction that began reading would."""
    if is_postgresql(app):
        return
    from datetime import timedelta

    from petition.db.types import now_utc
    from petition.organisers.models import OrganiserSession

    a_while_ago = now_utc() - timedelta(minutes=5)
    with app.app_context():
        db.session.execute(sa_update(OrganiserSession).values(last_seen_at=a_while_ago))
        db.session.commit()
    other_writer.execute("BEGIN IMMEDIATE")
    _release_after(other_writer, 0.3).join(0)
    assert organiser_client.get("/organisers/").status_code == 200
    with app.app_context():
        seen = db.session.execute(select(OrganiserSession.last_seen_at)).scalar_one()
        assert seen > a_while_ago + timedelta(minutes=4)


def test_a_post_waits_its_turn_for_the_lock(app, client, other_writer):
    """A POST takes the write lock when its transaction begins, so it waits for another writer
    rather than failing half-way."""
    if is_postgresql(app):
        return
    from petition.mail.models import OutgoingEmail
    from tests.support import csrf_token

    token = csrf_token(client, "/resend")
    other_writer.execute("BEGIN IMMEDIATE")
    _release_after(other_writer, 0.3)
    response = client.post("/resend", data={"email": "ada@example.org", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(OutgoingEmail.to_address)).scalars().all() == ["ada@example.org"]


def test_no_view_calls_a_locking_helper():
    """The request's method decides (database.request_reads); a view marks an exception with
    @writes or @reads_only, and calls none of the helpers meant for the CLI and the worker."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "petition"
    calls = [
        f"{path.relative_to(root)}: {helper}"
        for path in sorted(root.rglob("*views.py"))
        for helper in ("reading_only", "writing_from_here", "done_writing")
        if helper in path.read_text(encoding="utf-8")
    ]
    assert calls == []
