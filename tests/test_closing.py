"""Closing the letter: by schedule or by hand; nothing can be signed after, everything says so."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from petition.config import ConfigurationError, env_moment
from petition.extensions import db
from petition.models import AuditEntry, LetterState, OutgoingEmail, Signature, now_utc
from tests.support import create_organiser_account, link_in_latest_email, press_confirm, sign_as, signature_form


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def organiser(app):
    with app.app_context():
        email, _ = create_organiser_account()
    return email


def post_signature(client, email):
    """What a form left open before closing sends (signing takes no CSRF token: see the sign view)."""
    return client.post("/sign", data=signature_form(email=email))


def close_by_hand(runner, organiser, reason="delivered on 1 December"):
    result = runner.invoke(args=["letter", "close", "--by", organiser, "--reason", reason])
    assert result.exit_code == 0, result.output
    return result


def test_a_closing_time_needs_its_time_zone(monkeypatch):
    monkeypatch.setenv("SIGNING_CLOSES_AT", "2026-12-31T23:59:00")
    with pytest.raises(ConfigurationError, match="time zone"):
        env_moment("SIGNING_CLOSES_AT")
    monkeypatch.setenv("SIGNING_CLOSES_AT", "2026-12-31T23:59:00+08:00")
    assert env_moment("SIGNING_CLOSES_AT") == datetime(2026, 12, 31, 15, 59, tzinfo=UTC)


def test_after_closing_a_post_to_sign_adds_nothing_and_sends_nothing(app, client, runner, organiser):
    close_by_hand(runner, organiser)
    response = post_signature(client, "late@example.org")
    assert response.status_code == 410 and "Signing has closed" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Signature) == 0 and count(OutgoingEmail) == 0


def test_the_sign_page_shows_a_notice_instead_of_the_form(client, runner, organiser):
    close_by_hand(runner, organiser)
    html = client.get("/en/sign").get_data(as_text=True)
    assert "Signing has closed" in html and 'name="email"' not in html


@pytest.mark.parametrize("path", ["/en/", "/zh/", "/en/signatories", "/en/background", "/en/thanks"])
def test_every_page_says_the_letter_is_closed_with_the_date_and_the_counts(app, client, runner, organiser, path):
    from tests.support import confirmed_signature

    with app.app_context():
        confirmed_signature(email="early@example.org", group="chinese")
    close_by_hand(runner, organiser)
    html = client.get(path).get_data(as_text=True)
    banner = html.split('class="closed-banner"')[1].split("</div>")[0]
    assert str(datetime.now(UTC).year) in banner and "1" in banner
    assert 'class="nav-sign"' not in html and 'class="button button-wide"' not in html, "no button to sign"


def test_a_scheduled_closing_closes_signing_at_that_moment(app_factory):
    past = app_factory(SIGNING_CLOSES_AT=datetime.now(UTC) - timedelta(minutes=1), RATELIMIT_ENABLED=False)
    assert post_signature(past.test_client(), "after@example.org").status_code == 410
    future = app_factory(SIGNING_CLOSES_AT=datetime.now(UTC) + timedelta(days=1), RATELIMIT_ENABLED=False)
    assert sign_as(future.test_client(), email="before@example.org").status_code == 302


def test_a_signature_made_before_closing_can_be_confirmed_after_and_counts(app, client, runner, organiser):
    from petition.counts import current_counts

    sign_as(client, email="intime@example.org")
    close_by_hand(runner, organiser)
    press_confirm(client, link_in_latest_email(app, "intime@example.org"))
    with app.app_context():
        assert current_counts().total == 1


def test_closing_and_reopening_by_hand_are_in_the_audit_log(app, client, runner, organiser):
    close_by_hand(runner, organiser, reason="delivered")
    result = runner.invoke(args=["letter", "reopen", "--by", organiser, "--reason", "a new deadline"])
    assert result.exit_code == 0, result.output
    assert sign_as(client, email="reopened@example.org").status_code == 302
    with app.app_context():
        entries = db.session.execute(
            select(AuditEntry.action, AuditEntry.reason)
            .where(AuditEntry.action != "create-account")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(e) for e in entries] == [("close", "delivered"), ("reopen", "a new deadline")]


def test_closing_needs_an_organiser_and_a_reason(runner, organiser):
    nobody = runner.invoke(args=["letter", "close", "--by", "stranger@example.org", "--reason", "x"])
    blank = runner.invoke(args=["letter", "close", "--by", organiser, "--reason", "  "])
    assert nobody.exit_code != 0 and "no organiser" in nobody.output
    assert blank.exit_code != 0 and "audit log" in blank.output


def test_a_passed_schedule_cannot_be_reopened_by_hand(app_factory, organiser):
    site = app_factory(SIGNING_CLOSES_AT=datetime.now(UTC) - timedelta(minutes=1))
    result = site.test_cli_runner().invoke(args=["letter", "reopen", "--by", organiser, "--reason", "oops"])
    assert result.exit_code != 0 and "SIGNING_CLOSES_AT" in result.output


def test_pages_may_see_a_hand_closing_a_moment_late_but_nobody_can_sign_after_it(app, client, organiser):
    """Each process keeps the answer a second (CLOSING_CACHE_SECONDS); signing reads it afresh."""
    from tests.support import csrf_token, settings, signature_form

    with settings(app, CLOSING_CACHE_SECONDS=60):
        token = csrf_token(client, "/sign")  # this process now remembers: open
        with app.app_context():
            db.session.execute(db.update(LetterState).values(closed_at=now_utc()))  # closed by another process
            db.session.commit()
        assert client.get("/sign").status_code == 200, "the remembered answer, for a moment"
        late = client.post("/sign", data={**signature_form(email="late@example.org"), "csrf_token": token})
        assert late.status_code == 410
        with app.app_context():
            assert db.session.execute(select(Signature).where(Signature.email == "late@example.org")).first() is None
