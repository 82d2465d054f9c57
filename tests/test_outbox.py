"""The outbox and its worker, against a real SMTP server on loopback that goes down and comes back."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.mail.models import OutgoingEmail
from petition.mail.outbox import queue_email
from petition.mail.worker import backoff, deliver_due
from petition.signatures.signing import sign
from tests.support import SmtpServer

pytestmark = pytest.mark.usefixtures("ctx")


def queue(n, prefix="person"):
    for i in range(n):
        queue_email(f"{prefix}{i}@example.org", f"Subject {i}", f"Body {i}")
    db.session.commit()


def unsent():
    return db.session.execute(select(OutgoingEmail).where(OutgoingEmail.sent_at.is_(None))).scalars().all()


def test_due_emails_are_sent_once(smtp_server):
    queue(3)
    assert deliver_due().sent == 3
    assert deliver_due().sent == 0
    assert sorted(m["To"] for m in smtp_server.messages) == [f"person{i}@example.org" for i in range(3)]
    assert smtp_server.messages[0]["Subject"] == "Subject 0"
    assert unsent() == []


def test_signing_queues_a_confirmation_email_that_the_worker_sends(smtp_server):
    sign(name="王小明", affiliation="中山大学", email="wang@example.edu.cn", group="chinese")
    assert smtp_server.messages == []  # signing itself never talks to the mail server
    deliver_due()
    [message] = smtp_server.messages
    assert message["To"] == "wang@example.edu.cn"
    body = message.text()
    assert (
        "王小明" in body
        and "https://letter.example.org/en/confirm/" in body
        and "https://letter.example.org/en/signature/" in body
    )


def test_signing_works_while_the_mail_server_is_down(smtp_server):
    smtp_server.stop()
    outcome = sign(name="Ada", affiliation="UCL", email="ada@example.org", group="international")
    assert outcome.created
    assert len(unsent()) == 1


def test_mail_server_down_then_up_delivers_every_email_exactly_once(smtp_server):
    queue(5)
    smtp_server.stop()
    report = deliver_due()
    assert (report.sent, report.retrying) == (0, 5)
    waiting = unsent()
    assert len(waiting) == 5 and all(e.attempts == 1 and e.last_error for e in waiting)
    assert deliver_due().retrying == 0, "nothing is due again before its backoff"

    smtp_server.start()
    later = now_utc() + timedelta(hours=2)
    assert deliver_due(now=later).sent == 5
    assert deliver_due(now=later + timedelta(hours=2)).sent == 0
    assert sorted(m["To"] for m in smtp_server.messages) == [f"person{i}@example.org" for i in range(5)]


def test_a_refused_recipient_fails_for_good_and_others_still_go(smtp_server):
    queue_email("nobody@example.org", "S", "B")
    queue_email("somebody@example.org", "S", "B")
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    failed = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.failed_at.is_not(None))).scalar_one()
    assert failed.to_address == "nobody@example.org" and "550" in failed.last_error
    assert deliver_due(now=now_utc() + timedelta(days=1)).failed == 0


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(50) == timedelta(hours=1)


def test_two_workers_at_once_never_send_an_email_twice(smtp_server, app_factory):
    queue(40)
    worker_app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    barrier = threading.Barrier(2)
    reports = []

    def worker():
        with worker_app.app_context():
            barrier.wait()
            reports.append(deliver_due())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 40
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"person{i}@example.org" for i in range(40))


def test_without_a_mail_server_emails_go_to_the_log(app, caplog):
    queue(1)
    with caplog.at_level("WARNING"):
        assert deliver_due().sent == 1
    assert "person0@example.org" in caplog.text and "Body 0" in caplog.text


def test_the_deliver_command_reports_what_it_did(runner, smtp_server):
    queue(2)
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    assert "Sent 2" in result.output
    assert len(smtp_server.messages) == 2


# --- One email never stops the others ------------------------------------------------------------


def failed_emails():
    return db.session.execute(select(OutgoingEmail).where(OutgoingEmail.failed_at.is_not(None))).scalars().all()


def test_an_email_that_cannot_be_built_fails_alone_and_the_rest_are_sent(smtp_server):
    # Rows written before addresses were checked as strictly: a header injection and an encoded word.
    queue_email("a\r\nBcc: everyone@example.org", "S", "B")
    queue_email("=?utf-8?q?x=0D=0ABcc:_everyone@example.org?=@example.org", "S", "B")
    queue(2, prefix="after")
    report = deliver_due()
    assert report.sent == 2 and report.failed == 2
    assert all("could not be built" in failed.last_error for failed in failed_emails())
    recipients = [rcpt for _, rcpts in smtp_server.handler.envelopes for rcpt in rcpts]
    assert "everyone@example.org" not in recipients and "after0@example.org" in recipients
    assert all("\n" not in str(m["To"]) and m["Bcc"] is None for m in smtp_server.messages)


def test_the_envelope_carries_exactly_the_stored_address(smtp_server):
    sign(name="Carol", affiliation="TU", email="Carol@Bücher.de", group="international")
    deliver_due()
    [(sender, recipients)] = smtp_server.handler.envelopes
    assert recipients == ["carol@xn--bcher-kva.de"] and sender == "letter@localhost"


def test_a_non_ascii_mailbox_to_a_server_without_smtputf8_fails_once_with_its_reason(smtp_server):
    queue_email("用户@例子.中国", "S", "B")
    queue(1)
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    [failed] = failed_emails()
    assert failed.attempts == 1 and "SMTPUTF8" in failed.last_error
    assert deliver_due(now=now_utc() + timedelta(days=2)).failed == 0, "never tried again"


def test_a_non_ascii_mailbox_goes_to_a_server_that_speaks_smtputf8(app):
    server = SmtpServer(smtputf8=True)
    server.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    try:
        queue_email("用户@例子.中国", "S", "B")
        db.session.commit()
        assert deliver_due().sent == 1
        assert server.handler.envelopes[0][1] == ["用户@例子.中国"]
    finally:
        server.stop()
        app.config.update(saved)


def test_an_email_deferred_for_ever_fails_after_a_bounded_number_of_attempts(app, smtp_server):
    queue_email("later@example.org", "S", "B")
    db.session.commit()
    now, tries = now_utc(), 0
    while not failed_emails():
        tries += 1
        assert tries <= app.config["MAIL_MAX_ATTEMPTS"], "still retrying past the bound"
        deliver_due(now=now)
        now += timedelta(hours=2)
    [failed] = failed_emails()
    assert failed.attempts == app.config["MAIL_MAX_ATTEMPTS"] and "451" in failed.last_error
    assert "gave up after" in failed.last_error


def test_the_dashboard_shows_each_failed_or_retrying_email_with_its_reason(app, smtp_server, organiser_client):
    queue_email("nobody@example.org", "S", "B")
    queue_email("later@example.org", "S", "B")
    db.session.commit()
    deliver_due()
    html = organiser_client.get("/organisers/").get_data(as_text=True)
    assert "nobody@example.org" in html and "550" in html
    assert "later@example.org" in html and "451" in html


# --- A real worker process -------------------------------------------------------------------------


def worker_env(database, smtp_port, **extra):
    import os

    from petition.config import TestConfig

    env = {
        **os.environ,
        "DATABASE_URL": database,
        "SECRET_KEY": "worker-test-secret",
        "ADDRESS_KEY": TestConfig.ADDRESS_KEY,  # the worker opens what the tests sealed
        "PETITION_ENV": "development",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "SITE_URL": "https://letter.example.org",
        **extra,
    }
    env.pop("TEST_DATABASE_URL", None)
    return env


def start_worker(env, *args):
    import subprocess
    import sys

    from tests.support import PROJECT_ROOT

    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "deliver", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until(condition, seconds=30):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_watching_worker_survives_a_poisoned_email_and_keeps_delivering(database, smtp_server):
    queue_email("a\r\nBcc: everyone@example.org", "S", "B")
    db.session.commit()
    db.session.remove()
    worker = start_worker(worker_env(database, smtp_server.port), "--watch", "--interval", "0.2")
    try:
        queue(1, prefix="later-queued-")  # deferred by the server: retried, never stops the loop
        queue(2, prefix="after")
        db.session.remove()
        assert wait_until(lambda: len(smtp_server.messages) == 2), "the worker stopped delivering"
        assert worker.poll() is None, "the worker died"
    finally:
        worker.terminate()  # SIGTERM, as a service manager stops it
        output = worker.communicate(timeout=15)[0]
    assert worker.returncode == 0, f"SIGTERM ends the loop cleanly: {output}"
    [failed] = failed_emails()
    assert "could not be built" in failed.last_error


def test_a_worker_killed_after_the_server_accepted_sends_again_with_the_same_message_id(database, smtp_server):
    import signal

    queue(1)
    db.session.remove()
    env = worker_env(database, smtp_server.port, MAIL_LEASE_SECONDS="1")
    worker = start_worker(env)
    # The server has the email; the worker dies before it can write that down.
    smtp_server.handler.on_accept = lambda: worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL and len(smtp_server.messages) == 1
    smtp_server.handler.on_accept = None

    def run_worker_again():
        again = start_worker(env)
        again.communicate(timeout=30)
        return again.returncode == 0 and len(smtp_server.messages) == 2

    assert wait_until(run_worker_again, seconds=20), "after the lease, the email goes again"
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"] and first["Message-ID"].startswith("<outbox.")
    assert deliver_due(now=now_utc() + timedelta(hours=1)).sent == 0, "sent, and recorded as sent, at last"


# --- The production path: STARTTLS and SMTP login ---------------------------------------------------


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, as a private mail relay might have."""
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def secure_smtp(app, certificate):
    """aiosmtpd that requires STARTTLS before anything, and a login (letter / right password) after it."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.support import RecordingHandler, free_port

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"letter",
            b"right password",
        )
        return AuthResult(success=ok)

    handler, port = RecordingHandler(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    controller.start()
    keys = (
        "MAIL_SERVER",
        "MAIL_PORT",
        "MAIL_USE_TLS",
        "MAIL_TLS_CA_FILE",
        "MAIL_USERNAME",
        "MAIL_PASSWORD",
        "MAIL_TIMEOUT_SECONDS",
    )
    saved = {key: app.config.get(key) for key in keys}
    # A refused login leaves smtplib waiting on the server for the timeout: keep it short here.
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=True,
        MAIL_TLS_CA_FILE=str(cert),
        MAIL_USERNAME="letter",
        MAIL_PASSWORD="right password",
        MAIL_TIMEOUT_SECONDS=3,
    )
    yield handler
    controller.stop()
    app.config.update(saved)


def test_mail_goes_over_starttls_with_a_login(secure_smtp):
    queue(2)
    assert deliver_due().sent == 2
    assert len(secure_smtp.messages) == 2


def test_a_wrong_mail_password_keeps_every_email_for_later(app, secure_smtp):
    app.config["MAIL_PASSWORD"] = "wrong password"
    queue(2)
    report = deliver_due()
    assert (report.sent, report.retrying) == (0, 2) and secure_smtp.messages == []
    assert all("cannot connect" in email.last_error for email in unsent())


def test_a_certificate_the_site_does_not_trust_sends_nothing(app, secure_smtp):
    app.config["MAIL_TLS_CA_FILE"] = ""  # only the system's CAs: the self-signed relay is not among them
    queue(1)
    assert deliver_due().retrying == 1 and secure_smtp.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in unsent()[0].last_error


def test_one_deferred_email_is_retried_and_delivered_while_the_others_go(smtp_server):
    smtp_server.handler.defer_once = {"shy@example.org"}
    queue_email("shy@example.org", "S", "B")
    queue(2)
    first = deliver_due()
    assert (first.sent, first.retrying) == (2, 1)
    [waiting] = unsent()
    assert waiting.to_address == "shy@example.org" and "451" in waiting.last_error
    later = deliver_due(now=now_utc() + timedelta(minutes=5))
    assert later.sent == 1 and unsent() == []


def test_one_notice_per_version_and_signer_but_any_number_of_emails_that_are_neither(app):
    """The outbox's unique rules cover only news and version notices (partial indexes): a signer may
    be sent the confirmation several times, but the database refuses a second notice of one version."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from petition.letter.versions import current_number
    from petition.mail.signer_emails import queue_confirmation

    signature = sign(name="Twice", affiliation="Uni", email="twice@example.org", group="chinese").signature
    queue_confirmation(signature)
    queue_confirmation(signature)
    db.session.commit()
    assert db.session.query(OutgoingEmail).filter_by(signature_id=signature.id).count() == 3

    version = current_number()  # the first signature published version 1
    notice = {"to_address": signature.email, "subject": "s", "body": "b", "signature_id": signature.id}
    db.session.add(OutgoingEmail(**notice, version_notice=version, created_at=now_utc(), next_attempt_at=now_utc()))
    db.session.commit()
    db.session.add(OutgoingEmail(**notice, version_notice=version, created_at=now_utc(), next_attempt_at=now_utc()))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
