"""Keeping as little as possible for as short a time as possible."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from petition.extensions import db
from petition.models import LoginAttempt, Organiser, OrganiserSession, OutgoingEmail, Signature, now_utc
from petition.privacy import parse_age, purge
from petition.signing import sign
from tests.support import confirmed_signature, create_organiser_account


def age_everything(days):
    """Move every timestamp back, as if the rows were made `days` ago."""
    for table, columns in (
        ("signatures", ("signed_at",)),
        ("outgoing_emails", ("created_at", "sent_at")),
        ("login_attempts", ("created_at",)),
        ("organiser_sessions", ("created_at",)),
    ):
        for column in columns:
            if db.engine.dialect.name == "sqlite":
                db.session.execute(
                    text(f"UPDATE {table} SET {column} = datetime({column}, '-{days} days') WHERE {column} IS NOT NULL")
                )
            else:
                db.session.execute(
                    text(f"UPDATE {table} SET {column} = {column} - interval '{days} days' WHERE {column} IS NOT NULL")
                )
    db.session.commit()


def count(model, *conditions):
    return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


@pytest.mark.usefixtures("ctx")
def test_purge_forgets_old_ip_hashes_unconfirmed_signatures_and_sent_emails_but_keeps_the_letter():
    old_confirmed = confirmed_signature(email="old@example.org", ip_hash="a" * 64)
    sign(name="Never Confirmed", affiliation="U", email="never@example.org", group="chinese", ip_hash="b" * 64)
    db.session.add(LoginAttempt(email="o@example.org", ip_hash="c" * 64, succeeded=False))
    create_organiser_account()
    db.session.add(
        OrganiserSession(organiser_id=db.session.execute(select(Organiser.id)).scalar_one(), token_hash="e" * 64)
    )
    db.session.execute(OutgoingEmail.__table__.update().values(sent_at=now_utc()))
    db.session.commit()
    age_everything(100)
    recent = sign(
        name="Recent", affiliation="U", email="recent@example.org", group="chinese", ip_hash="d" * 64
    ).signature

    report = purge(timedelta(days=90))

    assert (report.ip_hashes_cleared, report.unconfirmed_deleted, report.login_attempts_deleted) == (2, 1, 2)
    assert count(OrganiserSession) == 0, "a 100-day-old login has ended"
    assert db.session.get(Signature, old_confirmed.id).ip_hash is None
    assert count(Signature, Signature.email == "never@example.org") == 0
    assert count(OutgoingEmail, OutgoingEmail.to_address.in_(["old@example.org", "never@example.org"])) == 0
    assert db.session.get(Signature, recent.id).ip_hash == "d" * 64
    assert count(OutgoingEmail, OutgoingEmail.to_address == "recent@example.org") == 1
    assert count(LoginAttempt) == 0


@pytest.mark.parametrize(
    "text_, expected", [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), (" 2w ", timedelta(weeks=2))]
)
def test_ages_are_read_as_a_person_writes_them(text_, expected):
    assert parse_age(text_) == expected


@pytest.mark.parametrize(
    "bad", ["", "90", "d90", "-1d", "90 days", "1000000000d", "999999999d", "99999999999999999999w"]
)
def test_a_bad_age_is_refused(bad):
    with pytest.raises(ValueError):
        parse_age(bad)


def test_the_purge_command(runner):
    result = runner.invoke(args=["privacy", "purge", "--older-than", "90d"])
    assert result.exit_code == 0 and "Cleared 0 IP hashes" in result.output
    bad = runner.invoke(args=["privacy", "purge", "--older-than", "soon"])
    assert bad.exit_code != 0 and "not an age" in bad.output


@pytest.mark.parametrize("age", ["1000000000d", "999999999d", "5300w"])
def test_an_age_too_long_for_the_calendar_is_a_clear_error_not_a_traceback(runner, age):
    result = runner.invoke(args=["privacy", "purge", "--older-than", age])
    assert result.exit_code == 2 and "hundred years" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("path", ["/", "/background", "/sign", "/signatories", "/resend"])
def test_every_page_links_to_the_privacy_page(client, path):
    assert 'href="/privacy"' in client.get(path).get_data(as_text=True)


def test_the_privacy_page_says_what_is_kept_who_sees_it_and_for_how_long(client):
    html = client.get("/privacy").get_data(as_text=True)
    for words in ("never published", "keyed hash", "90 days", "withdraw", "Who sees what"):
        assert words in html
