"""`flask mail fetch` against a real IMAP server (Debian's Dovecot, run by the tests): every message
handled once and removed, however the command is stopped; a failing or oversize message kept in the
Failed folder without stopping the others; a person's message the site did not act on kept for the
organisers; the database or Redis away stops the run and loses nothing; no password ever sent
without TLS."""

import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.inbound.imap import fetch_all, fetch_forever, sign_by_email, site_handler
from petition.inbound.models import InboundMessage
from petition.privacy.addresses import email_hash
from petition.signatures.models import Signature
from tests.support import (
    PROJECT_ROOT,
    REQUIRE_ALL,
    Dovecot,
    email_from,
    emails_to,
    free_port,
    settings,
    sign_from_email,
)

ADDRESSES = ["ada@example.ac.uk", "bo@example.edu.cn", "chen@example.edu"]


def start_dovecot(**options):
    try:
        return Dovecot(**options)
    except FileNotFoundError as missing:
        if REQUIRE_ALL:  # CI installs it: a missing Dovecot is a broken run, not a skipped test
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def dovecot_server():
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def dovecot(dovecot_server):
    dovecot_server.empty()
    return dovecot_server


@pytest.fixture
def fetching(app, dovecot):
    """The app reading the test's mailbox with the test's stand-in for sign-by-email."""
    with settings(
        app,
        IMAP_URL=dovecot.url(),
        IMAP_CA_FILE=str(dovecot.certificate),
        IMAP_FAILED_FOLDER="Failed",
        INBOUND_HANDLER=sign_from_email,
    ):
        yield app


def fetch(app, *options):
    return app.test_cli_runner().invoke(args=["mail", "fetch", *options])


def three_signers(dovecot):
    dovecot.deliver(
        email_from("Ada Lovelace", ADDRESSES[0]),
        email_from("Bo Wang", ADDRESSES[1]),
        email_from("Chen Li", ADDRESSES[2]),
    )


def signature_of(address):
    return db.session.scalar(select(Signature.id).where(Signature.email_hash == email_hash(address)))


def each_signed_once(app):
    """Each sender signed, and was sent one confirmation: a message handled twice sends two."""
    for address in ADDRESSES:
        assert len(emails_to(app, address)) == 1, address
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == len(ADDRESSES)


def test_every_message_is_handled_once_and_leaves_the_inbox(fetching, dovecot):
    three_signers(dovecot)

    result = fetch(fetching)

    assert result.exit_code == 0, result.output
    assert "handled 3, failed 0, too large 0" in result.output
    each_signed_once(fetching)
    assert dovecot.messages("INBOX") == []
    assert dovecot.messages("Failed") == []
    with fetching.app_context():
        recorded = db.session.execute(select(InboundMessage).order_by(InboundMessage.uid)).scalars().all()
        assert [row.outcome for row in recorded] == ["handled"] * 3
        assert {row.mailbox for row in recorded} == {"letter@localhost/INBOX"}
        assert all(row.received_at and row.uid_validity > 0 for row in recorded)
    # Run again: nothing new, nothing handled twice.
    assert "Fetched 0 messages" in fetch(fetching).output
    each_signed_once(fetching)


def test_starttls_on_the_plain_port_reads_the_mailbox_too(fetching, dovecot):
    dovecot.deliver(email_from("Ada Lovelace", ADDRESSES[0]))
    with settings(fetching, IMAP_URL=dovecot.url("imap")):
        result = fetch(fetching)
    assert result.exit_code == 0, result.output
    assert len(emails_to(fetching, ADDRESSES[0])) == 1
    assert dovecot.messages("INBOX") == []


def test_watching_fetches_mail_as_it_arrives(fetching, dovecot):
    looks, reports = [], []

    def look():
        looks.append(fetch_all(sign_from_email, dovecot.url(), ca_file=str(dovecot.certificate)))
        if len(looks) == 1:  # mail arrives while the worker waits
            dovecot.deliver(email_from("Ada Lovelace", ADDRESSES[0]))
        return looks[-1]

    with fetching.app_context():
        fetch_forever(look, 0.1, should_stop=lambda: bool(reports), on_report=reports.append)

    assert [report.handled for report in looks] == [0, 1]
    assert len(emails_to(fetching, ADDRESSES[0])) == 1
    assert dovecot.messages("INBOX") == []


class InterruptedOnce:
    """Ctrl-C while the second message is being handled, once."""

    def __init__(self):
        self.interrupted = False

    def __call__(self, raw):
        sign_from_email(raw)  # written, then undone: the interrupt comes before the commit
        if ADDRESSES[1].encode() in raw and not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt


def test_a_run_interrupted_midway_loses_nothing_and_handles_nothing_twice(fetching, dovecot):
    three_signers(dovecot)
    with settings(fetching, INBOUND_HANDLER=InterruptedOnce()):
        interrupted = fetch(fetching)
        assert interrupted.exit_code != 0
        assert len(dovecot.messages("INBOX")) == 2  # the first is done and gone; the second is kept
        with fetching.app_context():
            assert signature_of(ADDRESSES[1]) is None

        again = fetch(fetching)

    assert again.exit_code == 0, again.output
    assert "handled 2" in again.output
    each_signed_once(fetching)
    assert dovecot.messages("INBOX") == []


# A fetch in a process of its own that stops dead (SIGKILL) right after the first message's commit,
# before the message leaves the mailbox: the worst moment.
KILLED_AFTER_THE_FIRST_COMMIT = """
import pathlib, sys, time
from petition.inbound import imap as inbound_imap
from tests.support import make_app, sign_from_email

database, url, ca_file, marker = sys.argv[1:]

def committed(folder, uid, outcome):
    pathlib.Path(marker).write_text(f"UID {uid} {outcome}")
    time.sleep(60)  # killed here

inbound_imap._Folder.leave = committed
app = make_app(database)
with app.app_context():
    inbound_imap.fetch_all(sign_from_email, url, ca_file=ca_file)
"""


def test_a_fetch_killed_between_its_commit_and_the_delete_does_not_handle_the_message_again(
    fetching, dovecot, database, tmp_path
):
    three_signers(dovecot)
    marker = tmp_path / "committed"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_AFTER_THE_FIRST_COMMIT,
            database,
            dovecot.url(),
            str(dovecot.certificate),
            str(marker),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "the fetch never committed"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    assert len(dovecot.messages("INBOX")) == 3  # the first is recorded and handled, but still there

    result = fetch(fetching)

    assert result.exit_code == 0, result.output
    assert "handled 2, failed 0, too large 0, kept for organisers 0, removed 1 handled before" in result.output
    each_signed_once(fetching)
    assert dovecot.messages("INBOX") == []


def test_a_message_that_fails_is_kept_in_the_failed_folder_and_the_next_is_handled(fetching, dovecot, caplog):
    dovecot.deliver(
        email_from("Ada Lovelace", ADDRESSES[0]),
        email_from("Bo Wang", ADDRESSES[1], subject="unreadable"),
        email_from("Chen Li", ADDRESSES[2]),
    )

    with caplog.at_level("WARNING"):
        result = fetch(fetching)

    assert result.exit_code == 0, result.output
    assert "handled 2, failed 1" in result.output
    assert len(emails_to(fetching, ADDRESSES[0])) == len(emails_to(fetching, ADDRESSES[2])) == 1
    # What the handler wrote before it failed is undone, and the message is kept for organisers.
    assert emails_to(fetching, ADDRESSES[1]) == []
    with fetching.app_context():
        assert signature_of(ADDRESSES[1]) is None
        failed = db.session.execute(select(InboundMessage).where(InboundMessage.outcome == "failed")).scalar_one()
        assert failed.error == "ValueError"
    assert dovecot.messages("INBOX") == []
    [kept] = dovecot.messages("Failed")
    assert b"Subject: unreadable" in kept
    assert f"UID {failed.uid} could not be handled; moved to the folder Failed" in caplog.text
    # Never retried by itself ...
    assert "Fetched 0 messages" in fetch(fetching).output
    assert emails_to(fetching, ADDRESSES[1]) == []


def test_a_failed_message_moved_back_to_the_inbox_is_tried_again(fetching, dovecot):
    dovecot.deliver(email_from("Bo Wang", ADDRESSES[1], subject="unreadable"))
    fetch(fetching)
    [kept] = dovecot.messages("Failed")
    # ... but an organiser who moves it back (here: a corrected copy) has it read again.
    dovecot.deliver(kept.replace(b"Subject: unreadable", b"Subject: I sign"))

    result = fetch(fetching)

    assert "handled 1" in result.output
    assert len(emails_to(fetching, ADDRESSES[1])) == 1


def test_an_oversize_message_is_not_read_but_kept_in_the_failed_folder_with_a_log_line(fetching, dovecot, caplog):
    dovecot.deliver(email_from("Ada Lovelace", ADDRESSES[0], padding=1_100_000), email_from("Bo Wang", ADDRESSES[1]))

    with caplog.at_level("WARNING"):
        result = fetch(fetching)

    assert "handled 1, failed 0, too large 1" in result.output
    assert emails_to(fetching, ADDRESSES[0]) == []
    assert len(emails_to(fetching, ADDRESSES[1])) == 1
    [kept] = dovecot.messages("Failed")
    assert ADDRESSES[0].encode() in kept and len(kept) > 1_000_000
    assert "more than 1000000: not read; moved to the folder Failed" in caplog.text
    with fetching.app_context():
        assert db.session.scalar(select(InboundMessage.outcome).where(InboundMessage.size > 1_000_000)) == "too_large"


def test_a_certificate_that_does_not_verify_is_refused(fetching, dovecot):
    with settings(fetching, IMAP_CA_FILE=""):  # the test server's certificate is its own
        result = fetch(fetching)
    assert result.exit_code == 1
    assert "certificate at localhost" in result.output and "IMAP_CA_FILE" in result.output


def test_a_server_without_tls_never_receives_the_password(fetching):
    plain = start_dovecot(ssl="no")  # offers no STARTTLS, and would accept a login in the clear
    try:
        with settings(fetching, IMAP_URL=plain.url("imap")):
            result = fetch(fetching)
            # The worker stops too (a setting must change), rather than try every few seconds.
            watching = fetch(fetching, "--watch", "--interval", "0.1")
        log = plain.log()
    finally:
        plain.stop()
    for run in (result, watching):
        assert run.exit_code == 1
        assert "offers no STARTTLS: the password is not sent over an unencrypted connection" in run.output
    assert "Login:" not in log and "auth failed" not in log


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "IMAP_URL is not set"),
        ("pop3://letter:pw@mail.example.org/", "must start with imaps:// (TLS) or imap:// (STARTTLS)"),
        ("imaps://mail.example.org/INBOX", "must carry a login"),
    ],
)
def test_an_imap_url_that_cannot_work_is_refused_before_connecting(app, url, message):
    with settings(app, IMAP_URL=url, INBOUND_HANDLER=sign_from_email):
        result = fetch(app)
    assert result.exit_code == 1
    assert message in result.output


def test_the_command_hands_each_message_to_sign_by_email():
    assert site_handler({}) is sign_by_email


# Last: after a failed login Dovecot makes every login from this address wait a few seconds.
def test_a_wrong_password_is_a_clear_error(fetching, dovecot):
    dovecot.deliver(email_from("Ada Lovelace", ADDRESSES[0]))
    # Logged in before the failure: Dovecot makes every login from this address wait after one.
    with dovecot.client() as looking:
        with settings(fetching, IMAP_URL=dovecot.url(password="wrong-password")):
            result = fetch(fetching)

        assert result.exit_code == 1
        assert "refused the login of letter" in result.output and "AUTHENTICATIONFAILED" in result.output
        assert "wrong-password" not in result.output
        assert looking.select("INBOX", readonly=True) == ("OK", [b"1"])  # the message is still there


def test_signing_by_email_end_to_end_through_the_mailbox_in_both_languages(app, dovecot, smtp_server):
    """The site's own handler, not a stand-in: an English and a Chinese (GBK) message in the mailbox
    sign, the confirmations go out, and the signers' replies, read from the mailbox too, confirm."""
    from tests.test_sign_by_email import ENGLISH, SITE_ADDRESS, filled_in, reply_to

    chinese = "姓名：王小明\n所属机构：中山大学\n身份：中国学者\n公开：是\n"
    dovecot.deliver(
        filled_in("Ada <ada@example.ac.uk>", ENGLISH),
        filled_in("wang@example.cn", chinese, subject="签署公开信", charset="gbk"),
    )
    reading = {"IMAP_URL": dovecot.url(), "IMAP_CA_FILE": str(dovecot.certificate), "INBOUND_HANDLER": None}
    with settings(app, SIGN_BY_EMAIL_ADDRESS=SITE_ADDRESS, **reading):
        assert fetch(app).exit_code == 0
        assert app.test_cli_runner().invoke(args=["mail", "deliver"]).exit_code == 0
        confirmations = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
        assert confirmations["wang@example.cn"]["Subject"] == "请确认您在公开信上的签名"
        assert confirmations["ada@example.ac.uk"]["Subject"] == "Please confirm your signature on the open letter"
        dovecot.deliver(
            reply_to(confirmations["ada@example.ac.uk"], "ada@example.ac.uk", "Yes."),
            reply_to(confirmations["wang@example.cn"], "wang@example.cn", "确认。"),
        )
        assert fetch(app).exit_code == 0
    with app.app_context():
        signed = db.session.execute(select(Signature).order_by(Signature.email_hash)).scalars().all()
        assert sorted((s.name, s.language, s.is_confirmed) for s in signed) == [
            ("Ada Lovelace", "en", True),
            ("王小明", "zh", True),
        ]
    assert dovecot.messages() == [], "every message handled once and removed"


def the_sites_own_handling(dovecot, **values):
    """`mail fetch` as deployed: the site's own handler (receive_message) reading the test's mailbox."""
    return {
        "IMAP_URL": dovecot.url(),
        "IMAP_CA_FILE": str(dovecot.certificate),
        "INBOUND_HANDLER": None,
        **values,
    }


def auto_reply(address):
    return email_from("Ada Lovelace", address, subject="Out of office").replace(
        b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1
    )


def recorded_uids(app):
    with app.app_context():
        return dict(db.session.execute(select(InboundMessage.uid, InboundMessage.outcome)).all())


def test_a_persons_message_the_site_does_not_act_on_is_kept_for_the_organisers(app, dovecot, caplog):
    """ "Please remove my name" (no form lines, no code) is for a person to read: moved to the
    organisers' folder, counted and logged by UID; an auto-reply is removed; a signing is handled."""
    from tests.test_sign_by_email import ENGLISH, SITE_ADDRESS, filled_in

    remove_me = email_from("Ada Lovelace", ADDRESSES[0], subject="Remove me", body="Please remove my name.")
    dovecot.deliver(remove_me, auto_reply(ADDRESSES[0]), filled_in(ADDRESSES[1], ENGLISH))

    with settings(app, **the_sites_own_handling(dovecot, SIGN_BY_EMAIL_ADDRESS=SITE_ADDRESS)):
        with caplog.at_level("INFO"):
            result = fetch(app)
        again = fetch(app)

    assert result.exit_code == 0, result.output
    assert "handled 2, failed 0, too large 0, kept for organisers 1" in result.output
    assert dovecot.messages("INBOX") == []
    [kept] = dovecot.messages("For organisers")
    assert b"Please remove my name." in kept
    assert dovecot.messages("Failed") == []
    person, machine, signing = sorted(recorded_uids(app))
    assert recorded_uids(app) == {person: "unhandled", machine: "handled", signing: "handled"}
    log = caplog.text
    assert f"UID {person}: not acted on (neither the form's lines nor a code); moved to the folder For organisers" in (
        log
    )
    assert f"UID {machine}: ignored (Auto-Submitted); deleted" in log
    assert f"UID {signing}: signed; deleted" in log
    assert not any(address in log for address in ADDRESSES[:2])
    with app.app_context():
        assert signature_of(ADDRESSES[1]) is not None and signature_of(ADDRESSES[0]) is None
    assert "Fetched 0 messages" in again.output  # kept, not read again


def test_with_signing_by_email_off_people_s_mail_is_kept_and_machine_mail_removed(app, dovecot):
    from tests.test_sign_by_email import ENGLISH, filled_in

    dovecot.deliver(filled_in(ADDRESSES[0], ENGLISH), auto_reply(ADDRESSES[1]))

    with settings(app, **the_sites_own_handling(dovecot, SIGN_BY_EMAIL_ADDRESS="")):
        result = fetch(app)

    assert "handled 1, failed 0, too large 0, kept for organisers 1" in result.output
    [kept] = dovecot.messages("For organisers")
    assert b"Name: Ada Lovelace" in kept
    assert dovecot.messages("INBOX") == []
    with app.app_context():
        assert signature_of(ADDRESSES[0]) is None


class Redis:
    """A Redis server of the test's own on a free port, started and stopped at will (an outage)."""

    def __init__(self):
        if shutil.which("redis-server") is None:
            missing = "redis-server is not installed (apt-get install redis-server); .ci/run installs it"
            pytest.fail(missing) if REQUIRE_ALL else pytest.skip(missing)
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline and self.process.poll() is None, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)


def test_redis_away_stops_the_run_and_the_message_waits_in_the_inbox_for_the_next(app_factory, dovecot):
    """The per-address limits live in Redis: with Redis down nothing is recorded or moved, and the
    next run, with Redis back, signs."""
    from tests.test_sign_by_email import ENGLISH, SITE_ADDRESS, filled_in

    redis = Redis()  # not started yet: the limits' store is down
    site = app_factory(
        RATELIMIT_STORAGE_URI=redis.url,
        **the_sites_own_handling(dovecot, SIGN_BY_EMAIL_ADDRESS=SITE_ADDRESS, IMAP_FAILED_FOLDER="Failed"),
    )
    dovecot.deliver(filled_in(ADDRESSES[0], ENGLISH))
    try:
        away = fetch(site)

        assert away.exit_code == 1, away.output
        assert "Fetching mail stopped; the message stays in the mailbox" in away.output
        assert len(dovecot.messages("INBOX")) == 1
        assert dovecot.messages("Failed") == []
        assert recorded_uids(site) == {}

        redis.start()
        back = fetch(site)
    finally:
        redis.stop()
        app_factory()  # Flask-Limiter's state is the last app's: back to the tests' memory store

    assert back.exit_code == 0, back.output
    assert "handled 1, failed 0" in back.output
    assert dovecot.messages("INBOX") == []
    with site.app_context():
        assert signature_of(ADDRESSES[0]) is not None
