"""Confirming with the code in the email, on /confirm: for signers whose mail program rewrites or
pre-opens links, or who will not open a link from an email. It confirms as the link does, tells a
stranger nothing about who signed, and cannot be guessed."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from petition.db.types import now_utc
from petition.extensions import db
from petition.letter.models import LetterState
from petition.mail.models import OutgoingEmail
from petition.mail.worker import deliver_due
from petition.privacy.addresses import email_hash
from petition.signatories.counts import current_counts
from petition.signatures.models import Signature
from tests.support import (
    csrf_token,
    emails_to,
    link_in_latest_email,
    press_confirm,
    settings,
    sign_as,
)

CODE = re.compile(r"(?:Your code: |您的确认码：)(\d{4} \d{4})")
FULL_WIDTH = str.maketrans("0123456789 ", "０１２３４５６７８９\u3000")


def code_in_latest_email(app, address):
    [*_, email] = emails_to(app, address)
    return CODE.search(email.body).group(1)


def type_code(client, email, code, path="/en/confirm", ip="127.0.0.1"):
    """Fill in the page's form and send it, as a signer does, from `ip`."""
    token = csrf_token(client, path)
    return client.post(path, data={"email": email, "code": code, "csrf_token": token}, environ_base={"REMOTE_ADDR": ip})


def total(app):
    with app.app_context():
        return current_counts().total


def is_confirmed(app, address):
    with app.app_context():
        signature = db.session.execute(
            select(Signature).where(Signature.email_hash == email_hash(address))
        ).scalar_one()
        return signature.is_confirmed


def test_the_code_from_the_received_email_typed_in_full_width_digits_confirms(app, client, smtp_server):
    """A Chinese signer reads the code in the email the mail server received and types it with a
    Chinese input method (full-width digits and space): the signature is confirmed and counts."""
    assert sign_as(client, email="wang@example.edu.cn", name="王小明", group="chinese").status_code == 302
    check_email = client.get("/sign/check-your-email").get_data(as_text=True)
    assert "also has a code" in check_email and 'href="/confirm"' in check_email
    with app.app_context():
        db.session.execute(db.update(Signature).values(language="zh"))  # as the Chinese form would have
        db.session.commit()
        assert deliver_due().sent == 1
    [message] = smtp_server.messages
    text = message.text()
    assert "https://letter.example.org/zh/confirm\n" in text, "the page's address, plain, on its own line"
    code = CODE.search(text).group(1)
    assert code in message.html()

    typed = type_code(client, "wang@example.edu.cn", code.translate(FULL_WIDTH), path="/zh/confirm")
    assert typed.status_code == 302 and typed.headers["Location"] == "/zh/thanks"
    assert "您的签名已确认" in client.get("/zh/thanks").get_data(as_text=True)
    assert total(app) == 1 and is_confirmed(app, "wang@example.edu.cn")


def test_a_wrong_code_and_an_address_that_never_signed_get_the_same_answer_after_the_same_work(app, client):
    sign_as(client, email="signed@example.org")
    right = code_in_latest_email(app, "signed@example.org")
    wrong = f"{(int(right.replace(' ', '')) + 1) % 10**8:08d}"
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        answers = {}
        for address, code in (("signed@example.org", wrong), ("nobody@example.org", right)):
            token = csrf_token(client, "/en/confirm")
            statements.clear()
            response = client.post("/en/confirm", data={"email": address, "code": code, "csrf_token": token})
            page = response.get_data(as_text=True).replace(address, "ADDRESS").replace(code, "CODE")
            answers[address] = (response.status_code, page, statements[:])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    signed, stranger = answers["signed@example.org"], answers["nobody@example.org"]
    assert signed[0] == stranger[0] == 422
    assert "do not go together" in signed[1]
    assert re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", signed[1]) == re.sub(
        r'name="csrf_token" type="hidden" value="[^"]+"', "", stranger[1]
    )
    assert signed[2] == stranger[2], "the same queries whether or not the address has signed"
    assert not is_confirmed(app, "signed@example.org")


def test_a_signatures_code_stops_working_after_five_tries_from_any_network(app, client):
    sign_as(client, email="target@example.org")
    right = code_in_latest_email(app, "target@example.org")
    with settings(app, CODE_LIMIT_PER_EMAIL="5 per hour"):
        for i in range(5):
            assert type_code(client, "target@example.org", f"0000 000{i}", ip=f"198.51.100.{i}").status_code == 422
        blocked = type_code(client, "target@example.org", right, ip="203.0.113.77")
        assert blocked.status_code == 429
        html = blocked.get_data(as_text=True)
        assert "Too many tries" in html and 'value="target@example.org"' in html
        assert not is_confirmed(app, "target@example.org"), "the right code is refused while the limit holds"
        # An address that never signed is limited the same way: the limit tells nobody who signed.
        for i in range(5):
            type_code(client, "stranger@example.org", f"0000 000{i}", ip=f"198.51.100.{i}")
        assert type_code(client, "stranger@example.org", "1234 5678", ip="203.0.113.78").status_code == 429
        # Another signer is not held up, and the link in the email still confirms.
        assert type_code(client, "other@example.org", "1234 5678", ip="203.0.113.77").status_code == 422
        assert press_confirm(client, link_in_latest_email(app, "target@example.org")).status_code == 302
    assert is_confirmed(app, "target@example.org")


def test_one_network_may_try_only_so_many_codes(app, client):
    with settings(app, CODE_LIMIT_PER_IP="3 per hour"):
        statuses = [type_code(client, f"p{i}@campus.example", "1234 5678").status_code for i in range(4)]
        assert statuses == [422, 422, 422, 429]
        assert type_code(client, "p9@campus.example", "1234 5678", ip="192.0.2.9").status_code == 422


def test_a_typo_in_the_form_counts_only_against_the_network_and_keeps_what_was_typed(app, client):
    with settings(app, CODE_LIMIT_PER_EMAIL="1 per hour"):
        for typed in ("1234", "12345678901", "abcd efgh", ""):
            response = type_code(client, "careful@example.org", typed)
            html = response.get_data(as_text=True)
            assert response.status_code == 422 and 'value="careful@example.org"' in html
            assert ("Enter the eight digits" in html) or ("Enter the code from the email" in html)
            assert 'aria-describedby="code-hint code-errors"' in html and 'aria-invalid="true"' in html
        bad_address = type_code(client, "not an address", "1234 5678")
        assert bad_address.status_code == 422 and 'value="not an address"' in bad_address.get_data(as_text=True)
        assert type_code(client, "careful@example.org", "1234 5678").status_code == 422, "not yet limited"


@pytest.mark.parametrize(
    "data",
    [
        {"email": ["a@example.org", "b@example.org"], "code": ["1", "2"]},
        {"email": "x" * 5000, "code": "9" * 5000},
        {"email": "a@example.org\x00", "code": "１２３４\x00５６７８"},
        {},
    ],
)
def test_whatever_is_sent_to_the_code_page_never_gives_a_server_error(client, data):
    data = {**data, "csrf_token": csrf_token(client, "/en/confirm")}
    assert client.post("/en/confirm", data=data).status_code == 422


def test_the_code_of_a_confirmed_signature_says_it_is_already_confirmed(app, client):
    sign_as(client, email="done@example.org")
    code = code_in_latest_email(app, "done@example.org")
    press_confirm(client, link_in_latest_email(app, "done@example.org"))
    again = type_code(client, "done@example.org", code)
    assert again.status_code == 200 and "Your signature is already confirmed" in again.get_data(as_text=True)
    assert total(app) == 1


def age_the_emails(app, address, seconds):
    with app.app_context():
        back = now_utc() - timedelta(seconds=seconds)
        db.session.execute(
            db.update(OutgoingEmail).where(OutgoingEmail.to_hash == email_hash(address)).values(created_at=back)
        )
        db.session.execute(
            db.update(Signature).where(Signature.email_hash == email_hash(address)).values(signed_at=back)
        )
        db.session.commit()


def close_signing(app):
    with app.app_context():
        db.session.execute(db.update(LetterState).values(closed_at=now_utc()))
        db.session.commit()


def test_after_closing_the_code_confirms_while_its_email_would_and_not_after(app, client):
    week = app.config["CONFIRM_MAX_AGE"]
    for address in ("intime@example.org", "late@example.org"):
        sign_as(client, email=address)
        age_the_emails(app, address, week - 60)  # emailed days before closing
    codes = {address: code_in_latest_email(app, address) for address in ("intime@example.org", "late@example.org")}
    close_signing(app)
    assert type_code(client, "intime@example.org", codes["intime@example.org"]).status_code == 302
    with settings(app, CONFIRM_MAX_AGE=week - 120):  # two minutes on: the link would have expired
        expired = type_code(client, "late@example.org", codes["late@example.org"])
        link = client.get(link_in_latest_email(app, "late@example.org"))
    assert expired.status_code == link.status_code == 410
    assert "Signing has closed" in expired.get_data(as_text=True) and "Signing has closed" in link.get_data(
        as_text=True
    )
    assert total(app) == 1 and not is_confirmed(app, "late@example.org")


def test_an_expired_code_is_refused_like_an_expired_link_and_a_new_email_renews_it(app, client):
    sign_as(client, email="slow@example.org")
    code = code_in_latest_email(app, "slow@example.org")
    age_the_emails(app, "slow@example.org", app.config["CONFIRM_MAX_AGE"] + 60)
    expired = type_code(client, "slow@example.org", code)
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
    client.post("/resend", data={"email": "slow@example.org", "csrf_token": csrf_token(client, "/resend")})
    assert code_in_latest_email(app, "slow@example.org") == code, "the new email carries the same code"
    assert type_code(client, "slow@example.org", code).status_code == 302
    assert is_confirmed(app, "slow@example.org")


def test_a_suspected_bot_was_sent_no_code_so_none_confirms_it(app, client):
    sign_as(client, email="bot@example.org", website="http://spam.example")
    with app.app_context():
        from petition.signatures import confirmation_codes

        signature = db.session.execute(select(Signature)).scalar_one()
        code = confirmation_codes.shown(confirmation_codes.code_for(signature))
    assert type_code(client, "bot@example.org", code).status_code == 422
    assert not is_confirmed(app, "bot@example.org")


def test_the_code_page_is_private_and_in_both_languages(client):
    for path, label in (("/en/confirm", "Code from the email"), ("/zh/confirm", "邮件中的确认码")):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and label in html and "no-store" in response.headers["Cache-Control"]
        assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    resend = client.get("/en/resend").get_data(as_text=True)
    assert "also has a code" in resend and 'href="/en/confirm"' in resend


def test_signing_again_before_confirming_sends_a_new_code_and_the_old_one_stops_working(app, client):
    sign_as(client, email="twice@example.org", name="First Try")
    old = code_in_latest_email(app, "twice@example.org")
    sign_as(client, email="twice@example.org", name="Second Try")
    new = code_in_latest_email(app, "twice@example.org")
    assert new != old
    assert type_code(client, "twice@example.org", old).status_code == 422
    assert type_code(client, "twice@example.org", new).status_code == 302
    assert is_confirmed(app, "twice@example.org")
