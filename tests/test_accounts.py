"""Organiser sessions and passwords: the idle timeout and the absolute lifetime (with the clock moved
by hand), changing a password on the site, logging out everywhere; every change audited."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.organisers import accounts, lockout
from petition.organisers.models import AuditEntry
from petition.signatures import abuse
from tests.support import csrf_token, log_in, settings

EMAIL, PASSWORD = "organiser@example.org", "correct horse battery"


class Clock:
    def __init__(self):
        self.now = now_utc()

    def __call__(self):
        return self.now

    def tick(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app):
    clock = Clock()
    with settings(app, ORGANISER_CLOCK=clock, ORGANISER_IDLE_MINUTES=30, ORGANISER_SESSION_HOURS=12):
        yield clock


def test_a_session_left_idle_ends_and_the_login_page_says_why(organiser_client, clock):
    clock.tick(minutes=29)
    assert organiser_client.get("/organisers/").status_code == 200
    clock.tick(minutes=31)
    expired = organiser_client.get("/organisers/")
    assert expired.status_code == 302 and "/organisers/login" in expired.headers["Location"]
    assert "without activity" in organiser_client.get(expired.headers["Location"]).get_data(as_text=True)
    clock.tick(minutes=-60)  # going back does not revive it: the session was ended
    assert organiser_client.get("/organisers/").status_code == 302


def test_activity_keeps_a_session_alive_until_its_absolute_lifetime(organiser_client, clock):
    for _ in range(11 * 3):
        clock.tick(minutes=20)
        assert organiser_client.get("/organisers/").status_code == 200
    clock.tick(minutes=61)
    assert organiser_client.get("/organisers/").status_code == 302


def copy_of(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return other


def change_password(client, current, new, again=None):
    token = csrf_token(client, "/organisers/account")
    data = {"csrf_token": token, "current": current, "new": new, "again": again or new}
    return client.post("/organisers/account/password", data=data)


def test_changing_the_password_ends_every_other_session_but_this_one(app, organiser_client):
    other = app.test_client()
    assert log_in(other, EMAIL, PASSWORD).status_code == 302
    done = change_password(organiser_client, PASSWORD, "a brand new passphrase")
    assert done.status_code == 302
    assert organiser_client.get("/organisers/").status_code == 200
    assert other.get("/organisers/").status_code == 302
    assert log_in(app.test_client(), EMAIL, "a brand new passphrase").status_code == 302
    with app.app_context():
        actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "change-password" in actions


@pytest.mark.parametrize(
    ("current", "new", "again", "field"),
    [
        ("wrong password entirely", "a brand new passphrase", None, "current"),
        (PASSWORD, "short", None, "new"),
        (PASSWORD, "a brand new passphrase", "a different passphrase", "again"),
    ],
)
def test_a_refused_password_change_says_why_beside_the_field_and_changes_nothing(
    app, organiser_client, current, new, again, field
):
    refused = change_password(organiser_client, current, new, again)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f'id="{field}-errors"' in html
    assert log_in(app.test_client(), EMAIL, PASSWORD).status_code == 302


def test_guessing_the_current_password_counts_with_login_failures_and_locks_out_the_same_way(app, organiser_client):
    """Someone with a session but not the password (a borrowed laptop, a stolen cookie) cannot guess it
    on the account page: the guesses count with wrong logins, and five of them lock both."""
    for _ in range(2):
        assert log_in(app.test_client(), EMAIL, "a wrong guess at login").status_code == 422
    for n in range(3):
        assert change_password(organiser_client, f"wrong guess number {n}", "a brand new passphrase").status_code == 422
    right = change_password(organiser_client, PASSWORD, "a brand new passphrase")
    assert right.status_code == 422
    assert "too many attempts" in right.get_data(as_text=True)
    assert log_in(app.test_client(), EMAIL, "a brand new passphrase").status_code == 422
    assert log_in(app.test_client(), EMAIL, PASSWORD).status_code == 422, "the login is locked too"
    with app.app_context():
        assert accounts.authenticate(EMAIL, PASSWORD) is not None, "the password is unchanged"
        assert not lockout.is_locked_out(EMAIL, abuse.ip_hash("127.0.0.1"), now=now_utc() + timedelta(minutes=16))


def test_logging_out_everywhere_ends_every_session_of_the_account(app, organiser_client):
    other = app.test_client()
    log_in(other, EMAIL, PASSWORD)
    thief = copy_of(app, organiser_client)
    token = csrf_token(organiser_client, "/organisers/account")
    organiser_client.post("/organisers/account/logout-everywhere", data={"csrf_token": token})
    for client in (organiser_client, other, thief):
        assert client.get("/organisers/").status_code == 302
    with app.app_context():
        assert "logout-everywhere" in db.session.execute(select(AuditEntry.action)).scalars().all()


def test_the_account_page_is_translated(organiser_client):
    html = organiser_client.get("/organisers/account", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "修改" in html and "Change your password" not in html
