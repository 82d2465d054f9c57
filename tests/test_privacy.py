"""Keeping as little as possible for as short a time as possible."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from petition.db.types import now_utc
from petition.extensions import db
from petition.mail.models import OutgoingEmail
from petition.organisers.models import LoginAttempt, Organiser, OrganiserSession
from petition.privacy.addresses import email_hash
from petition.privacy.retention import parse_age, purge
from petition.signatures.models import Signature
from petition.signatures.signing import sign
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
    assert count(Signature, Signature.email_hash == email_hash("never@example.org")) == 0
    assert (
        count(
            OutgoingEmail, OutgoingEmail.to_hash.in_([email_hash("old@example.org"), email_hash("never@example.org")])
        )
        == 0
    )
    assert db.session.get(Signature, recent.id).ip_hash == "d" * 64
    assert count(OutgoingEmail, OutgoingEmail.to_hash == email_hash("recent@example.org")) == 1
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


# --- Erasing addresses after the letter has closed (ERASE_EMAILS_AFTER_DAYS) ------------------


def close_days_ago(days):
    from petition.letter.models import LetterState

    db.session.execute(db.update(LetterState).values(closed_at=now_utc() - timedelta(days=days)))
    db.session.commit()


@pytest.mark.usefixtures("ctx")
def test_addresses_are_kept_while_the_letter_is_open_and_for_a_while_after_it_closes():
    confirmed_signature(email="kept@example.org")
    assert purge(timedelta(days=90)).addresses_erased == 0
    close_days_ago(89)
    assert purge(timedelta(days=90)).addresses_erased == 0
    assert count(Signature, Signature.email_hash == email_hash("kept@example.org")) == 1


@pytest.mark.usefixtures("ctx")
def test_after_the_wait_addresses_are_erased_except_for_signers_who_asked_for_news():
    from petition.signatories.counts import current_counts
    from petition.signatories.public_list import ListFilter, public_page

    confirmed_signature(name="Quiet", email="quiet@example.org")
    confirmed_signature(name="Reader", email="reader@example.org", wants_updates=True)
    close_days_ago(91)
    report = purge(timedelta(days=90))
    db.session.commit()
    assert report.addresses_erased == 1
    assert count(Signature, Signature.email.is_(None)) == 1
    assert count(Signature, Signature.email_hash == email_hash("reader@example.org")) == 1
    assert current_counts().total == 2
    assert sorted(s.name for s in public_page(ListFilter()).signatories) == ["Quiet", "Reader"]


def test_an_erased_address_still_cannot_sign_twice_and_its_owner_is_told(app, client, runner):
    from tests.support import emails_to, sign_as

    with app.app_context():
        confirmed_signature(email="erased@example.org")
        close_days_ago(91)
        purge(timedelta(days=90))
        db.session.commit()
        from petition.letter.models import LetterState

        db.session.execute(db.update(LetterState).values(closed_at=None))  # reopened
        db.session.commit()
    assert sign_as(client, email="Erased@Example.org").status_code == 302
    with app.app_context():
        assert count(Signature) == 1
    notice = emails_to(app, "erased@example.org")[-1]
    assert "already signed" in notice.subject


def test_the_export_and_the_organiser_pages_show_an_erased_address_as_erased(app, organiser_client):
    with app.app_context():
        signature_id = confirmed_signature(email="gone@example.org").id
        close_days_ago(91)
        purge(timedelta(days=90))
        db.session.commit()
    csv = organiser_client.get("/organisers/export.csv").get_data(as_text=True)
    assert "gone@example.org" not in csv and "Ada Lovelace" in csv
    assert organiser_client.get("/organisers/").status_code == 200
    detail = organiser_client.get(f"/organisers/signatures/{signature_id}").get_data(as_text=True)
    assert "gone@example.org" not in detail and "erased" in detail


def test_the_purge_command_says_how_many_addresses_it_erased(runner):
    result = runner.invoke(args=["privacy", "purge", "--older-than", "90d"])
    assert result.exit_code == 0 and "erased 0 email addresses" in result.output


def test_every_cookie_a_visitor_gets_is_named_on_the_privacy_page(client, app):
    """Reading, switching language, signing and confirming: the privacy page names each cookie set,
    and the form cookie lasts only as long as the browser session, as the page says."""
    from http.cookies import SimpleCookie

    from tests.support import link_in_latest_email, press_confirm, sign_as

    headers = []
    responses = [client.get(path) for path in ("/", "/en/", "/zh/sign", "/signatories", "/privacy")]
    responses.append(client.get("/language/zh?next=/zh/"))
    responses.append(sign_as(client))
    responses.append(press_confirm(client, link_in_latest_email(app, "ada@example.ac.uk")))
    for response in responses:
        headers += response.headers.getlist("Set-Cookie")
    cookies = {}
    for header in headers:
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] != "0" and "1970" not in morsel["expires"]:  # not one being removed
                cookies[name] = morsel
    assert set(cookies) == {"session", "lang"}
    assert not cookies["session"]["expires"] and not cookies["session"]["max-age"]
    for language in ("en", "zh"):
        page = client.get(f"/{language}/privacy").get_data(as_text=True)
        for name in cookies:
            assert f"<code>{name}</code>" in page, f"{name} is not named on the {language} privacy page"


# --- Erasure reaches the outbox -----------------------------------------------------------------


def everything_in_the_outbox():
    """Every value of every outbox row, as text, sealed values opened (as the site can open them):
    where an address could hide."""
    from petition.privacy.sealing import keys

    rows = db.session.execute(text("SELECT * FROM outgoing_emails")).all()
    values = [str(value) for row in rows for value in row]
    return " | ".join(keys().open(value) if value.startswith("v1.") else value for value in values)


def test_an_erased_address_is_nowhere_in_the_outbox_nor_on_the_organisers_page(app, client, smtp_server, runner):
    """A scholar signs and confirms; later an email to her fails (the server names her address in its
    answer), and another waits to be sent; the letter closes and, after the wait, the purge erases her
    address. It is then in no outbox row (address, body with her private links, reason, anything), and
    the organisers' list of emails not delivered shows no address for her."""
    from petition.mail.worker import deliver_due
    from tests.support import CONFIRM_LINK, create_organiser_account, log_in, press_confirm, sign_as

    address = "quiet.scholar@example.edu"
    sign_as(client, email=address, name="Quiet Scholar")
    with app.app_context():
        assert deliver_due().sent == 1
    press_confirm(client, CONFIRM_LINK.search(smtp_server.messages[-1].text()).group(1))

    refuse = smtp_server.handler.handle_RCPT

    async def mailbox_full(server, session, envelope, to, options):
        if to == address:
            return f"552 5.2.2 <{to}>: mailbox full"
        return await refuse(server, session, envelope, to, options)

    smtp_server.handler.handle_RCPT = mailbox_full
    sign_as(client, email=address, name="Someone Else")  # she is told she has signed: that email fails
    with app.app_context():
        assert deliver_due().failed == 1
    from tests.support import csrf_token

    client.post("/resend", data={"email": address, "csrf_token": csrf_token(client, "/resend")})  # waits
    with app.app_context():
        assert address in everything_in_the_outbox()
        close_days_ago(91)
        report = purge(timedelta(days=90))
        db.session.commit()
        assert report.addresses_erased == 1
        kept = everything_in_the_outbox()
        assert address not in kept and "/signature/" not in kept and "/confirm/" not in kept
    with app.app_context():
        create_organiser_account()
    organisers = app.test_client()
    log_in(organisers, "organiser@example.org", "correct horse battery")
    html = organisers.get("/organisers/").get_data(as_text=True)
    assert "Emails not delivered" in html and address not in html
    assert "address erased" in html and "its address was erased" in html and "None" not in html
    with app.app_context():
        assert deliver_due().sent == 0, "nothing can be sent to an erased address"


def test_withdrawing_leaves_the_address_in_no_outbox_row(app, client, smtp_server):
    """Every email about the signature goes with it, and so does a failed one to its address that
    names no signature (a signing again the worker could not record)."""
    from petition.mail.models import OutgoingEmail
    from petition.mail.worker import deliver_due
    from tests.support import (
        MANAGE_LINK,
        csrf_token,
        link_in_latest_email,
        press_confirm,
        sign_and_confirm,
        signature_form,
    )

    address = "leaving@example.org"
    sign_and_confirm(client, email=address)
    manage = link_in_latest_email(app, address, MANAGE_LINK)
    form = {**signature_form(email=address), "csrf_token": csrf_token(client, "/sign")}
    assert client.post("/sign", data=form).status_code == 302
    with app.app_context():
        signing = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.signature_id.is_(None))).scalar_one()
        signing.signing_details = {"broken": True}
        db.session.commit()
        assert deliver_due().failed == 1
        assert address in everything_in_the_outbox()
    assert press_confirm(client, manage + "/withdraw").status_code == 302
    with app.app_context():
        assert address not in everything_in_the_outbox()
