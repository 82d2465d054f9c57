"""Connection settings belong to the app's own engine, and reads take no write lock on SQLite."""

import sqlite3

import pytest
from sqlalchemy import create_engine, select, text

from petition import database
from petition.extensions import db
from petition.models import Signature
from petition.outbox import deliver_due
from tests.support import is_postgresql


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
        database.reading_only()
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


# The transaction boundaries: a request (database.commit_unless_failed, and the error handlers that
# roll back), a CLI command (cli.commits) and the mail worker's claims (outbox). Everywhere else flushes.
BOUNDARIES = {"database.py", "errors.py", "cli.py", "outbox.py"}


def test_only_the_boundaries_commit():
    import ast
    from pathlib import Path

    package = Path(database.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{node.lineno}"
        for path in package.rglob("*.py")
        if path.name not in BOUNDARIES and "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("commit", "rollback")
    ]
    assert offenders == []


def test_a_request_keeps_what_it_wrote_when_it_answers_and_nothing_when_it_fails(app_factory):
    from petition.signing import sign

    site = app_factory(PROPAGATE_EXCEPTIONS=False)

    @site.get("/test-sign/<email>/<outcome>")
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
