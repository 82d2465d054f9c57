"""Fixtures: one migrated database per run (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
emptied before each test; an app, a client and a CLI runner; a live server, a browser, an SMTP
server. The helpers they use, and that tests import, are in tests/support.py."""

import os
import shutil
import subprocess
import sys

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from petition.config import database_url
from petition.extensions import db
from tests.support import (
    CHROMIUM_FLAGS,
    PROJECT_ROOT,
    REQUIRE_ALL,
    SmtpServer,
    create_organiser_account,
    drop_everything,
    emptying_append_only_tables,
    free_port,
    log_in,
    make_app,
    wait_for,
)


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    if os.environ.get("TEST_DATABASE_URL"):
        return database_url(os.environ["TEST_DATABASE_URL"])
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database):
    app = make_app(database)
    with app.app_context():
        drop_everything()
        upgrade()  # the schema comes only from the migrations
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_factory(database):
    """Another app on the test database with other settings (a second worker, a proxied site).
    Its connections are closed afterwards, so none is left for the garbage collector to find."""
    made = []

    def build(**overrides):
        made.append(make_app(database, **overrides))
        return made[-1]

    yield build
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def empty_database(request, app):
    """Every test starts with no signatures and no organisers."""
    with app.app_context():
        set_aside = emptying_append_only_tables()
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in ("signature_counts", "signatory_groups", "letter_state"):  # these stay
                db.session.execute(table.delete())
        # ... but only the groups the migrations made; a test may have added one.
        db.session.execute(
            text("DELETE FROM signature_counts WHERE signatory_group NOT IN ('international', 'chinese')")
        )
        db.session.execute(text("DELETE FROM signatory_groups WHERE key NOT IN ('international', 'chinese')"))
        db.session.execute(text("UPDATE signature_counts SET n = 0"))
        db.session.execute(text("UPDATE letter_state SET closed_at = NULL"))  # open, as the migration left it
        for sql in set_aside:
            db.session.execute(text(sql))
        db.session.commit()
        if set_aside:  # SQLite's schema changed under the pooled connections (the triggers set aside)
            db.engine.dispose()
    yield


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def organiser_client(app, client):
    with app.app_context():
        email, password = create_organiser_account()
    response = log_in(client, email, password)
    assert response.status_code == 302
    return client


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_ALL and exitstatus == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = reporter.stats.get("skipped", []) if reporter else []
        if skipped:
            reporter.write_line(f"PETITION_REQUIRE_ALL_TESTS=1 but {len(skipped)} test(s) were skipped", red=True)
            session.exitstatus = 1


@pytest.fixture(scope="session")
def live_server(app, database, tmp_path_factory):
    """The site served by gunicorn, as in production, on the test database."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("server") / "gunicorn.log", "w")  # noqa: SIM115 (open while the server runs)
    # Limits off here so the concurrency test can hammer one address; a person needs 1 second.
    env = {
        **os.environ,
        "DATABASE_URL": database,
        # The test app's key: tests read the links in signers' emails as the test app writes them,
        # which is how the site's mail worker writes them (emails are written when sent).
        "SECRET_KEY": app.config["SECRET_KEY"],
        # And its address key: the server opens the addresses the tests sealed, and the other way round.
        "ADDRESS_KEY": app.config["ADDRESS_KEY"],
        "PETITION_ENV": "development",
        "COUNTS_REFRESH_SECONDS": "1",
        "SITE_URL": base,
        "RATELIMIT_ENABLED": "false",
        "SIGN_MIN_SECONDS": "1",
        "MAIL_SERVER": "",
        "PAGE_CACHE_SECONDS": "0",
        "GROWTH_CACHE_SECONDS": "0",  # a test adds a signature and looks at the chart at once
        # Tests close signing from the command line and look at once (pages show it within a second).
        "CLOSING_CACHE_SECONDS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(base + "/api/counts", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def playwright_chromium():
    """Playwright, once per run (its sync API cannot be started twice in one process), and the path of
    Debian's Chromium. Fixtures launch the browsers they need from it."""
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not chromium:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright, chromium


@pytest.fixture(scope="session")
def browser(playwright_chromium):
    playwright, chromium = playwright_chromium
    launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


@pytest.fixture
def page_for(browser, live_server):
    """Open pages as a visitor would (phone or desktop); every request to another origin is recorded."""
    contexts = []

    def open_page(width=1280, language="en", javascript=True):
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            locale=language,
            extra_http_headers={"Accept-Language": language},
            java_script_enabled=javascript,
        )
        contexts.append(context)
        page = context.new_page()
        page.elsewhere = []
        page.console_errors = []
        page.on("request", lambda r: None if r.url.startswith((live_server, "data:")) else page.elsewhere.append(r.url))
        # A form sent back with mistakes answers 422, which Chromium logs; anything else is a real error.
        page.on(
            "console",
            lambda m: (
                page.console_errors.append(m.text) if m.type == "error" and "status of 422" not in m.text else None
            ),
        )
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def smtp_server(app):
    server = SmtpServer()
    server.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_TIMEOUT_SECONDS")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT_SECONDS=5)
    yield server
    server.stop()
    app.config.update(saved)
