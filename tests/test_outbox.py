"""The outbox and its worker, against a real SMTP server on loopback that goes down and comes back."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import OutgoingEmail, now_utc
from petition.outbox import backoff, deliver_due, queue_email
from petition.signing import sign

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
    body = message.get_content()
    assert "王小明" in body and "https://letter.example.org/en/confirm/" in body and "https://letter.example.org/en/signature/" in body


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
