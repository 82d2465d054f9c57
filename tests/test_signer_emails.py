"""Signer emails are queued unwritten with the signature and written by the worker when it sends them,
in the signer's language, with links that last as long from signing as they always did."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.mail.models import OutgoingEmail
from petition.mail.worker import deliver_due
from petition.privacy.addresses import email_hash
from petition.signatures.models import Signature
from petition.signatures.signing import sign
from tests.support import CONFIRM_LINK, confirmed_signature, csrf_token, signature_form

pytestmark = pytest.mark.usefixtures("ctx")


def the_email_to(address):
    return db.session.execute(select(OutgoingEmail).where(OutgoingEmail.to_hash == email_hash(address))).scalar_one()


def test_a_chinese_signers_confirmation_is_written_when_sent_and_kept_as_sent(smtp_server, client):
    sign(name="王小明", affiliation="中山大学", email="wang@example.edu.cn", group="chinese", language="zh")
    db.session.commit()
    queued = the_email_to("wang@example.edu.cn")
    assert (queued.template, queued.subject, queued.body) == ("confirm", None, None), "signing wrote no email"

    assert deliver_due().sent == 1
    [message] = smtp_server.messages
    body = message.text()
    assert message["Subject"] == "请确认您在公开信上的签名" and "王小明，您好" in body
    link = CONFIRM_LINK.search(body).group(1)
    assert link.startswith("/zh/confirm/")
    db.session.expire_all()
    kept = the_email_to("wang@example.edu.cn")
    assert kept.subject == message["Subject"] and kept.body.strip() == body.strip(), "what was sent is kept"
    assert client.get(link).status_code == 200, "the link the worker wrote opens the confirmation page"


def test_a_confirmation_link_lasts_from_signing_not_from_sending(smtp_server, client, app):
    """Mail held up (a server down for days) does not stretch the link's life past CONFIRM_MAX_AGE."""
    sign(name="Late Mail", affiliation="Uni", email="late@example.org", group="chinese")
    db.session.commit()
    email = the_email_to("late@example.org")
    email.created_at = email.next_attempt_at = now_utc() - timedelta(seconds=app.config["CONFIRM_MAX_AGE"] + 3600)
    db.session.commit()
    assert deliver_due().sent == 1
    link = CONFIRM_LINK.search(smtp_server.messages[0].text()).group(1)
    assert client.get(link).status_code == 410, "expired: it was made when the signer signed"


def test_writing_one_email_per_signer_language_in_a_batch(smtp_server):
    for i in range(6):
        language = ("en", "zh")[i % 2]
        sign(name=f"Signer {i}", affiliation="Uni", email=f"s{i}@example.org", group="chinese", language=language)
    db.session.commit()
    assert deliver_due().sent == 6
    by_address = {m["To"]: m for m in smtp_server.messages}
    for i in range(6):
        body = by_address[f"s{i}@example.org"].text()
        assert f"Signer {i}" in body
        assert re.search(r"/zh/confirm/" if i % 2 else r"/en/confirm/", body)


def test_an_email_the_worker_cannot_write_fails_with_its_reason_and_the_others_go(smtp_server):
    """A row naming a template this version does not know (left by another version, or tampered
    with): it fails on its own row, in words an organiser can read; the signers around it get theirs."""
    for i in range(3):
        sign(name=f"Neighbour {i}", affiliation="Uni", email=f"n{i}@example.org", group="chinese")
    db.session.commit()
    odd = the_email_to("n1@example.org")
    odd.template = "no_such_email"
    db.session.commit()

    report = deliver_due()
    assert (report.sent, report.failed) == (2, 1)
    assert sorted(m["To"] for m in smtp_server.messages) == ["n0@example.org", "n2@example.org"]
    db.session.expire_all()
    failed = the_email_to("n1@example.org")
    assert failed.failed_at is not None and "no_such_email email could not be written" in failed.last_error


def test_every_email_is_dated_and_its_html_part_says_what_its_text_says(smtp_server):
    """A missing Date costs every email 2.7 points at SpamAssassin; mail programs that prefer HTML show
    the HTML part, which must hold the same words and the same links."""
    import html as html_module
    from email.utils import parsedate_to_datetime

    sign(name="王小明", affiliation="中山大学", email="wang@example.edu.cn", group="chinese", language="zh")
    sign(name="Ada Lovelace", affiliation="UCL", email="ada@example.ac.uk", group="international")
    db.session.commit()
    assert deliver_due().sent == 2
    for message in smtp_server.messages:
        sent = parsedate_to_datetime(message["Date"])
        assert abs((sent - now_utc()).total_seconds()) < 60
        assert message["Message-ID"]
        text, html = message.text(), message.html()
        links = re.findall(r"https?://\S+", text)
        assert links and all(f'href="{link}"' in html for link in links)
        words = html_module.unescape(re.sub(r"<[^>]+>", " ", html.split("<body", 1)[1].split(">", 1)[1]))
        assert words.split() == text.split()
    chinese = next(m for m in smtp_server.messages if m["To"] == "wang@example.edu.cn")
    assert 'lang="zh-Hans"' in chinese.html()


def test_every_email_tells_autoresponders_not_to_answer(smtp_server):
    """RFC 3834: an out-of-office reply to a confirmation would reach the site's signing address; a
    mail program that reads Auto-Submitted does not send it, so two machines never talk in a loop."""
    sign(name="Ada Lovelace", affiliation="UCL", email="ada@example.ac.uk", group="international")
    db.session.commit()
    assert deliver_due().sent == 1
    [message] = smtp_server.messages
    assert message["Auto-Submitted"] == "auto-generated"


def post_sign_form(client, **fields):
    """The sign form sent as a browser does; the mail worker has not looked yet."""
    form = {**signature_form(**fields), "csrf_token": csrf_token(client, "/sign")}
    assert client.post("/sign", data=form).status_code == 302


def test_the_worker_settles_each_signing_from_the_form_and_sends_what_it_became(smtp_server, client):
    """The form writes the same row whoever signs; the worker adds the newcomer's signature and sends
    its confirmation, tells the owner of a confirmed signature that they have signed, and sends a
    suspected bot nothing (its signature is kept, flagged, for organisers)."""
    confirmed_signature(name="Owner", email="owner@example.org")
    assert deliver_due().sent == 1  # the owner's own confirmation, long ago
    smtp_server.messages.clear()
    post_sign_form(client, name="Newcomer", email="new@example.org")
    post_sign_form(client, name="Impostor", email="Owner@Example.org")
    post_sign_form(client, name="Bot", email="bot@example.org", website="http://spam.example")

    assert deliver_due().sent == 2
    by_address = {message["To"]: message for message in smtp_server.messages}
    assert set(by_address) == {"new@example.org", "owner@example.org"}
    welcome = by_address["new@example.org"].text()
    assert "Newcomer" in welcome and CONFIRM_LINK.search(welcome)
    assert by_address["owner@example.org"]["Subject"] == "You have already signed the open letter"
    assert "Impostor" not in by_address["owner@example.org"].text()
    stored = {s.name: s for s in db.session.execute(select(Signature)).scalars()}
    assert sorted(stored) == ["Bot", "Newcomer", "Owner"] and stored["Bot"].suspected_bot
    assert client.get(CONFIRM_LINK.search(welcome).group(1)).status_code == 200
    assert deliver_due().sent == 0, "each signing is settled and sent once"


def test_a_signing_the_worker_cannot_record_fails_with_its_reason_and_the_others_go(smtp_server, client):
    """A signing whose group was removed before the worker took it, say: its row fails with a reason an
    organiser can read (with the address, so nobody is dropped unseen); the signers around it sign."""
    for i in range(3):
        post_sign_form(client, name=f"Neighbour {i}", email=f"n{i}@example.org")
    odd = the_email_to("n1@example.org")
    odd.signing_details = {**odd.signing_details, "group": "no-such-group"}
    db.session.commit()

    report = deliver_due()
    assert (report.sent, report.failed) == (2, 1)
    assert sorted(m["To"] for m in smtp_server.messages) == ["n0@example.org", "n2@example.org"]
    db.session.expire_all()
    failed = the_email_to("n1@example.org")
    assert failed.failed_at is not None and "the signing could not be recorded" in failed.last_error
    names = db.session.execute(select(Signature.name).order_by(Signature.name)).scalars().all()
    assert names == ["Neighbour 0", "Neighbour 2"]


def test_the_worker_answers_each_request_for_the_email_again_and_keeps_no_stranger_address(smtp_server, client):
    """The resend form writes the same row whoever asks; the worker sends an unconfirmed signer a
    fresh link and a confirmed one the private link, and keeps nothing of an address that never signed."""
    confirmed_signature(name="Confirmed", email="confirmed@example.org")
    sign(name="Pending", affiliation="Uni", email="pending@example.org", group="chinese")
    db.session.commit()
    assert deliver_due().sent == 2
    smtp_server.messages.clear()
    for address in ("confirmed@example.org", "PENDING@example.org", "stranger@example.org"):
        token = csrf_token(client, "/resend")
        assert client.post("/resend", data={"email": address, "csrf_token": token}).status_code == 302

    assert deliver_due().sent == 2
    by_address = {message["To"]: message for message in smtp_server.messages}
    assert set(by_address) == {"confirmed@example.org", "pending@example.org"}
    assert by_address["confirmed@example.org"]["Subject"] == "You have already signed the open letter"
    assert client.get(CONFIRM_LINK.search(by_address["pending@example.org"].text()).group(1)).status_code == 200
    stranger = select(OutgoingEmail).where(OutgoingEmail.to_hash == email_hash("stranger@example.org"))
    assert db.session.execute(stranger).first() is None
