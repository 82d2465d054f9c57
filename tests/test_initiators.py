"""Who is behind the letter (INITIATORS, CONTACT_EMAIL): named under the letter, on the privacy page
as those responsible for the data, in every email, and missed out loud in production."""

import logging

import pytest

from petition import create_app
from petition.config import ProductionConfig
from petition.mail.worker import deliver_due
from petition.privacy.sealing import make_key
from tests.support import csrf_token, settings, settle_signings_now, signature_form

BEHIND = {
    "INITIATORS": ["Anita Chan, University of Technology, Sydney", "陈杰，华南理工大学"],
    "CONTACT_EMAIL": "initiators@letter.example.org",
}


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_letter_page_says_who_started_it_and_where_to_write_in_either_language(app, client):
    with settings(app, **BEHIND):
        english = page(client, "/en/")
        chinese = page(client, "/zh/")
    assert "Initiated by Anita Chan (University of Technology, Sydney) and 陈杰 (华南理工大学)" in english
    assert 'Contact: <a href="mailto:initiators@letter.example.org">initiators@letter.example.org</a>' in english
    assert "发起人：Anita Chan（University of Technology, Sydney）和陈杰（华南理工大学）" in chinese
    assert "联系方式：<a href=" in chinese, "full-width colon in Chinese"


def test_a_site_that_names_nobody_shows_no_empty_byline(app, client):
    with settings(app, INITIATORS=[], CONTACT_EMAIL=""):
        english = page(client, "/en/")
    assert "Initiated by" not in english and "Contact:" not in english


def test_the_privacy_page_names_those_responsible_and_how_to_see_or_erase_ones_data(app, client):
    with settings(app, **BEHIND):
        english = page(client, "/en/privacy")
        chinese = page(client, "/zh/privacy")
    assert "Who is responsible for your data" in english
    assert "responsible for the data it keeps: Anita Chan (University of Technology, Sydney) and 陈杰" in english
    assert 'write to <a href="mailto:initiators@letter.example.org">' in english
    assert "from the address you signed with" in english and "We answer only to that address" in english
    assert "谁对您的数据负责" in chinese and "陈杰（华南理工大学）" in chinese
    assert "请用您联署时所用的邮箱写信至<a href=" in chinese and "专属链接" in chinese
    with settings(app, INITIATORS=[], CONTACT_EMAIL=""):
        unnamed = page(client, "/en/privacy")
    assert "The organisers who run this site are responsible" in unnamed
    assert "no address to write to yet" in unnamed and "mailto:" not in unnamed


@pytest.mark.parametrize(
    "language, footer, sender",
    [
        (
            "en",
            "This open letter was initiated by Anita Chan (University of Technology, Sydney) and 陈杰 (华南理工大学).\n"
            "Contact: initiators@letter.example.org",
            "Open letter on labour NGOs in Guangdong",
        ),
        (
            "zh",
            "本公开信由Anita Chan（University of Technology, Sydney）和陈杰（华南理工大学）发起。\n"
            "联系方式：initiators@letter.example.org",
            "关于广东劳工NGO的公开信",
        ),
    ],
)
def test_every_email_ends_with_who_is_behind_the_letter_and_comes_from_the_letters_name(
    app, client, smtp_server, language, footer, sender
):
    with settings(app, MAIL_DEFAULT_SENDER="letter@letter.example.org", **BEHIND):
        form = {**signature_form(email="ada@example.org"), "csrf_token": csrf_token(client, f"/{language}/sign")}
        client.post(f"/{language}/sign", data=form)
        client.post(f"/{language}/sign", data=form)  # again, unconfirmed: the second email is the same kind
        settle_signings_now(app)
        with app.app_context():
            deliver_due()
        assert smtp_server.messages
        for message in smtp_server.messages:
            assert footer in message.text()
            assert footer.splitlines()[0] in message.html()
            assert message["From"].addresses[0].display_name == sender
            assert message["From"].addresses[0].addr_spec == "letter@letter.example.org"


def test_a_sender_with_a_name_of_its_own_keeps_it(app, client, smtp_server):
    with settings(app, MAIL_DEFAULT_SENDER="Labour NGO letter <letter@letter.example.org>"):
        form = {**signature_form(email="ada@example.org"), "csrf_token": csrf_token(client, "/zh/sign")}
        client.post("/zh/sign", data=form)
        settle_signings_now(app)
        with app.app_context():
            deliver_due()
    [message] = smtp_server.messages
    assert message["From"].addresses[0].display_name == "Labour NGO letter"
    assert "initiated by" not in message.text() and "发起" not in message.text(), "nobody is named when unset"


PRODUCTION = {
    "SECRET_KEY": "a-long-random-value-from-the-environment",
    "ADDRESS_KEY": make_key(),
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
}


def test_production_warns_at_start_when_nobody_behind_the_letter_is_named(caplog):
    with caplog.at_level(logging.WARNING):
        create_app(ProductionConfig, {**PRODUCTION, "INITIATORS": [], "CONTACT_EMAIL": ""})
    [warning] = [record.getMessage() for record in caplog.records if "INITIATORS" in record.getMessage()]
    assert warning.startswith("INITIATORS and CONTACT_EMAIL are not set")
    assert 'Set INITIATORS="Name, Affiliation; Name, Affiliation" and CONTACT_EMAIL to an address' in warning

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(ProductionConfig, {**PRODUCTION, "INITIATORS": BEHIND["INITIATORS"], "CONTACT_EMAIL": ""})
    [warning] = [record.getMessage() for record in caplog.records if "CONTACT_EMAIL" in record.getMessage()]
    assert warning.startswith("CONTACT_EMAIL is not set: the letter page") and "INITIATORS" not in warning

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(ProductionConfig, {**PRODUCTION, **BEHIND})
    assert not [r for r in caplog.records if "INITIATORS" in r.getMessage() or "CONTACT_EMAIL" in r.getMessage()]
