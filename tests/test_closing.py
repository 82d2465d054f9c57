"""Closing the letter: by schedule or by hand; nothing can be signed after, everything says so."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from petition.config import ConfigurationError, env_moment
from petition.db.types import now_utc
from petition.extensions import db
from petition.letter.models import LetterState
from petition.mail.models import OutgoingEmail
from petition.organisers.models import AuditEntry
from petition.privacy.addresses import email_hash
from petition.signatures.models import Signature
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
    from petition.signatories.counts import current_counts

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
            assert (
                db.session.execute(
                    select(Signature).where(Signature.email_hash == email_hash("late@example.org"))
                ).first()
                is None
            )


# --- The rule for confirming once signing has closed ---------------------------------------------


def age_the_email_to(app, address, seconds):
    """The emails to this address were queued `seconds` ago (their links are dated then)."""
    with app.app_context():
        back = now_utc() - timedelta(seconds=seconds)
        db.session.execute(
            db.update(OutgoingEmail).where(OutgoingEmail.to_hash == email_hash(address)).values(created_at=back)
        )
        db.session.commit()


def ask_again(client, address):
    from tests.support import csrf_token

    return client.post("/resend", data={"email": address, "csrf_token": csrf_token(client, "/resend")})


def test_after_closing_no_new_confirmation_link_is_issued_and_the_counts_settle(app, client, runner, organiser):
    """The audit's sequence: sign without confirming, the letter closes, the link expires, ask for the
    email again. No new link may come, and the old one is refused with a clear page: the counts settle
    at closing plus CONFIRM_MAX_AGE at the latest."""
    from tests.support import csrf_token, emails_to, settings

    week = app.config["CONFIRM_MAX_AGE"]
    sign_as(client, email="late@example.org")
    age_the_email_to(app, "late@example.org", week - 60)  # signed (and the link issued) days ago
    old_link = link_in_latest_email(app, "late@example.org")
    close_by_hand(runner, organiser)
    with settings(app, CONFIRM_MAX_AGE=week - 120):  # as if two more minutes had passed: the link has expired
        asked = ask_again(client, "late@example.org")
        page = client.get(asked.headers["Location"]) if asked.status_code == 302 else asked
        assert "Signing has closed" in page.get_data(as_text=True)
        assert len(emails_to(app, "late@example.org")) == 1, "no new link after closing"

        # What pressing the button sends (the page shows none; the session's token is any form's).
        refused = client.post(old_link, data={"csrf_token": csrf_token(client, "/resend")})
        opened = client.get(old_link).get_data(as_text=True)
    assert refused.status_code == 410 and "Signing has closed" in opened and 'action="/en/resend"' not in opened
    with app.app_context():
        assert current_counts_total() == 0


def current_counts_total():
    from petition.signatories.counts import current_counts

    return current_counts().total


def test_a_link_from_before_closing_confirms_until_it_expires(app, client, runner, organiser):
    sign_as(client, email="intime@example.org")
    age_the_email_to(app, "intime@example.org", app.config["CONFIRM_MAX_AGE"] - 60)
    link = link_in_latest_email(app, "intime@example.org")
    close_by_hand(runner, organiser)
    assert press_confirm(client, link).status_code == 302
    with app.app_context():
        assert current_counts_total() == 1


def test_a_confirmation_link_made_after_closing_is_refused_and_the_private_page_offers_none(
    app, client, runner, organiser
):
    """However a link is made after closing (by hand from a signature's secret, say), it confirms
    nothing; the signer's private page says signing has closed instead of offering one."""
    from petition.signatures.tokens import CONFIRM, MANAGE, make_token
    from tests.support import csrf_token

    sign_as(client, email="after@example.org")
    close_by_hand(runner, organiser)
    with app.app_context():  # closed a minute ago: every link made now is made after
        db.session.execute(db.update(LetterState).values(closed_at=now_utc() - timedelta(minutes=1)))
        db.session.commit()
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        fresh_link, private_page = (
            f"/confirm/{make_token(signature, CONFIRM)}",
            f"/signature/{make_token(signature, MANAGE)}",
        )
    refused = client.post(fresh_link, data={"csrf_token": csrf_token(client, "/resend")})
    assert refused.status_code == 410 and "Signing has closed" in client.get(fresh_link).get_data(as_text=True)
    html = client.get(private_page).get_data(as_text=True)
    assert "/confirm/" not in html and "Signing has closed" in html
    with app.app_context():
        assert current_counts_total() == 0


def test_approving_a_flagged_signature_after_closing_sends_no_link_and_says_why(app, client, runner, organiser):
    from tests.support import csrf_token, emails_to, log_in

    sign_as(client, email="flagged@example.org", website="http://spam.example")
    close_by_hand(runner, organiser)
    organisers = app.test_client()
    log_in(organisers, organiser, "correct horse battery")
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    page = f"/organisers/signatures/{signature_id}"
    done = organisers.post(
        f"{page}/approve",
        data={"reason": "a person", "csrf_token": csrf_token(organisers, page)},
        follow_redirects=True,
    )
    assert "Signing has closed" in done.get_data(as_text=True)
    assert emails_to(app, "flagged@example.org") == []


def test_a_signing_the_form_took_before_closing_is_recorded_and_confirms_after_it(app, client, runner, organiser):
    """The mail worker may take a signing a moment after the letter closed: its signer signed in time,
    so the signature is added and its link, dated when they signed, confirms it."""
    from tests.support import csrf_token

    form = {**signature_form(email="last.minute@example.org"), "csrf_token": csrf_token(client, "/sign")}
    assert client.post("/sign", data=form).status_code == 302  # the worker has not looked yet
    close_by_hand(runner, organiser)
    press_confirm(client, link_in_latest_email(app, "last.minute@example.org"))
    with app.app_context():
        assert current_counts_total() == 1
