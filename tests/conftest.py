"""Fixtures: one migrated database per run (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
emptied before each test; an app, a client and a CLI runner; helpers that use the forms as a
browser does, CSRF token included."""
import os
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import MetaData

from petition import create_app
from petition.config import TestConfig, database_url, engine_options
from petition.extensions import db

# CI sets this so that a test it is meant to run cannot pass by skipping.
REQUIRE_ALL = os.environ.get("PETITION_REQUIRE_ALL_TESTS") == "1"


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    if os.environ.get("TEST_DATABASE_URL"):
        return database_url(os.environ["TEST_DATABASE_URL"])
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def make_app(database, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": database, "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database)}
    return create_app(TestConfig, {**settings, **overrides})


def drop_everything():
    """Whatever an earlier run left behind, tables and alembic's version row included."""
    existing = MetaData()
    existing.reflect(bind=db.engine)
    existing.drop_all(bind=db.engine)


@pytest.fixture(scope="session")
def app(database):
    app = make_app(database)
    with app.app_context():
        drop_everything()
        upgrade()  # the schema comes only from the migrations
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def empty_database(request, app):
    """Every test starts with no signatures and no organisers."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
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


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, path):
    page = client.get(path)
    match = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {path}"
    return match.group(1)


def signature_form(**fields):
    form = {
        "name": "Ada Lovelace",
        "affiliation": "University of London",
        "email": "ada@example.ac.uk",
        "group": "international",
        "listed": "y",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def sign_as(client, follow_redirects=False, **fields):
    """Fill in and send the signing form as a browser would (a None field is left out)."""
    form = signature_form(**fields)
    form["csrf_token"] = csrf_token(client, "/sign")
    return client.post("/sign", data=form, follow_redirects=follow_redirects)


def create_organiser_account(email="organiser@example.org", password="correct horse battery"):
    from petition.accounts import create_organiser

    create_organiser(email, password)
    return email, password


def log_in(client, email, password):
    token = csrf_token(client, "/organisers/login")
    return client.post("/organisers/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def organiser_client(app, client):
    with app.app_context():
        email, password = create_organiser_account()
    response = log_in(client, email, password)
    assert response.status_code == 302
    return client


def is_postgresql(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_ALL and exitstatus == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = reporter.stats.get("skipped", []) if reporter else []
        if skipped:
            reporter.write_line(f"PETITION_REQUIRE_ALL_TESTS=1 but {len(skipped)} test(s) were skipped", red=True)
            session.exitstatus = 1


