"""Helpers for the tests: building the app, using the forms as a browser does, a real SMTP server on
loopback, a visitor talking HTTP to a server process. Fixtures live in conftest.py and use these."""

import contextlib
import http.cookiejar
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import MetaData, text

from petition import create_app
from petition.config import TestConfig, engine_options
from petition.extensions import db
from petition.privacy.addresses import email_hash

# CI sets this so that a test it is meant to run cannot pass by skipping.
REQUIRE_ALL = os.environ.get("PETITION_REQUIRE_ALL_TESTS") == "1"


def make_app(database, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": database, "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database)}
    return create_app(TestConfig, {**settings, **overrides})


def drop_everything():
    """Whatever an earlier run left behind: tables, alembic's version row, functions."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        return
    with db.engine.begin() as connection:  # a full-text table drops its own shadow tables with it
        for (name,) in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
        ).all():
            connection.exec_driver_sql(f'DROP TABLE "{name}"')
    existing = MetaData()
    existing.reflect(bind=db.engine)
    existing.drop_all(bind=db.engine)


def emptying_append_only_tables():
    """The audit log refuses DELETE, as it must; only the tests get round it, to start each test empty:
    PostgreSQL skips triggers for this transaction, SQLite's triggers are set aside and put back."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        return []
    triggers = db.session.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
    ).all()
    for name, _ in triggers:
        db.session.execute(text(f"DROP TRIGGER {name}"))
    return [sql for _, sql in triggers]


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, path):
    page = client.get(path)
    match = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {path}"
    return match.group(1)


# The signer every helper signs as unless a test says otherwise.
ADA = {
    "name": "Ada Lovelace",
    "affiliation": "University of London",
    "email": "ada@example.ac.uk",
    "group": "international",
}


def signature_form(**fields):
    form = {**ADA, "listed": "y"}
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def sign_as(client, follow_redirects=False, **fields):
    """Fill in and send the signing form as a browser would (a None field is left out), and let the
    mail worker take the signing, as it does within seconds (settle_signings_now)."""
    form = signature_form(**fields)
    form["csrf_token"] = csrf_token(client, "/sign")
    response = client.post("/sign", data=form, follow_redirects=follow_redirects)
    settle_signings_now(client.application)
    return response


def settle_signings_now(app):
    """What the mail worker does first with each signing and each request for the email again that the
    forms queued (signing.settle_signings): the signature is added or found, and which email each
    becomes decided; nothing is sent."""
    from flask import current_app, has_app_context
    from sqlalchemy import select

    from petition.mail.models import OutgoingEmail
    from petition.mail.signer_emails import TO_SETTLE
    from petition.signatures.settling import settle_signings

    # In the test's own app context (its session), or in one of its own.
    with (
        contextlib.nullcontext()
        if has_app_context() and current_app._get_current_object() is app
        else app.app_context()
    ):
        waiting = select(OutgoingEmail).where(
            OutgoingEmail.template.in_(TO_SETTLE), OutgoingEmail.sent_at.is_(None), OutgoingEmail.failed_at.is_(None)
        )
        _, problems = settle_signings(db.session.execute(waiting.order_by(OutgoingEmail.id)).scalars().all())
        db.session.commit()
        assert not problems, problems


CONFIRM_LINK = re.compile(r"https?://[^/\s]+((?:/en|/zh)?/confirm/[^\s]+)")


MANAGE_LINK = re.compile(r"https?://[^/\s]+((?:/en|/zh)?/signature/[^\s]+)")


def emails_to(app, address):
    """The emails queued for an address, oldest first (the outbox is a table), written as the worker
    will write them when it sends them (nothing is saved). The signings the form queued are settled
    first, as the worker does when it takes them (settle_signings_now)."""
    from sqlalchemy import select

    from petition.mail.mailings import write_waiting
    from petition.mail.models import OutgoingEmail

    settle_signings_now(app)
    with app.app_context():
        emails = (
            db.session.execute(
                select(OutgoingEmail).where(OutgoingEmail.to_hash == email_hash(address)).order_by(OutgoingEmail.id)
            )
            .scalars()
            .all()
        )
        write_waiting(emails)
        db.session.expunge_all()
        return emails


def link_in_latest_email(app, address, pattern=CONFIRM_LINK):
    emails = emails_to(app, address)
    assert emails, f"no email was queued for {address}"
    match = pattern.search(emails[-1].body)
    assert match, f"no such link in: {emails[-1].body}"
    return match.group(1)


def press_confirm(client, path):
    """Open the emailed link and press the button, as the signer does."""
    return client.post(path, data={"csrf_token": csrf_token(client, path)})


def sign_and_confirm(client, **fields):
    response = sign_as(client, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    address = signature_form(**fields)["email"].strip().lower()
    press_confirm(client, link_in_latest_email(client.application, address))
    return response


def confirmed_signature(**fields):
    """Sign and confirm without HTTP, inside an app context, and commit (the test is the boundary)."""
    from petition.extensions import db
    from petition.signatures.signing import confirm_signature, sign

    values = {**ADA, "listed": True, **fields}
    signature = confirm_signature(sign(**values).signature)
    db.session.commit()
    return signature


def create_organiser_account(email="organiser@example.org", password="correct horse battery"):
    from petition.extensions import db
    from petition.organisers.accounts import create_organiser

    create_organiser(email, password)
    db.session.commit()
    return email, password


def log_in(client, email, password):
    token = csrf_token(client, "/organisers/login")
    return client.post("/organisers/login", data={"email": email, "password": password, "csrf_token": token})


@contextmanager
def settings(app, **values):
    """The app with these settings for a while, and fresh rate-limit counters before and after."""
    from petition.extensions import limiter

    saved = {key: app.config[key] for key in values}
    app.config.update(values)
    limiter.reset()
    try:
        yield
    finally:
        app.config.update(saved)
        limiter.reset()


def server_drops_the_pools_connection(app):
    """PostgreSQL ends the one connection the app's pool then holds (as a restart or an idle timeout
    would), while the pool still has it; the backend's pid. Call inside the app's context."""
    from sqlalchemy import create_engine

    db.engine.dispose()  # the pool holds one connection from here: the one the server drops
    with db.engine.connect() as connection:
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    other.dispose()
    return backend


def is_postgresql(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


PROJECT_ROOT = Path(__file__).resolve().parent.parent


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {url}")


class ReceivedEmail(EmailMessage):
    """An email as a mail program reads it; text() is its plain-text part."""

    def text(self):
        return self.get_body(("plain",)).get_content().replace("\r\n", "\n")

    def html(self):
        return self.get_body(("html",)).get_content().replace("\r\n", "\n")


def raw_header(message, name):
    """A header as a mail provider reads it from the bytes: unfolded (RFC 5322), nothing decoded."""
    head = message.raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\n(?=[ \t])", "", head)
    found = re.search(rf"^{re.escape(name)}:[ \t]*(.*)$", unfolded, re.M | re.I)
    return found.group(1) if found else None


class RecordingHandler:
    """Keeps every message it accepts, with its envelope; refuses recipients whose address starts
    with 'nobody' for good, and defers those starting with 'later' (451) for ever."""

    def __init__(self):
        self.messages = []
        self.envelopes = []
        self.on_accept = None  # called after a message is kept, before the server answers 250
        self.defer_once = set()  # addresses deferred (451) the first time only

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"  # as Postfix says it
        if address.startswith("later"):
            return "451 4.3.0 Try again later"
        if address in self.defer_once:
            self.defer_once.discard(address)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, _class=ReceivedEmail, policy=policy.default)
        message.raw = envelope.content  # the bytes as sent, for tests that read headers as providers do
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if self.on_accept:
            self.on_accept()
        return "250 Message accepted"


class SmtpServer:
    """aiosmtpd on a loopback port that a test can stop and start again, as a mail server goes down."""

    def __init__(self, smtputf8=False):
        self.port = free_port()
        self.handler = RecordingHandler()
        self.controller = None
        self.smtputf8 = smtputf8

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.handler.messages


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpVisitor:
    """A visitor with its own cookies, talking to a server process; redirects are returned, not followed."""

    def __init__(self, base):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect())

    def request(self, path, data=None, base=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open((base or self.base) + path, data=body, timeout=60) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers, answer.read().decode()

    def hidden_fields(self, path, base=None):
        _, _, html = self.request(path, base=base)
        return dict(re.findall(r'name="(csrf_token|started)" type="hidden" value="([^"]*)"', html))

    def post_form(self, path, fields, base=None):
        return self.request(path, {**self.hidden_fields(path, base), **fields}, base=base)


class Dovecot:
    """Debian's Dovecot (dovecot-imapd) run by the tests with a configuration of its own, no system
    settings read: a passwd-file with one mailbox, maildir, imaps and imap (STARTTLS) on free loopback
    ports with a self-signed certificate, everything (sockets, state, log) in one temporary folder.
    `ssl="no"` makes a server that offers no TLS at all. Mail arrives by IMAP APPEND, as the test
    delivers it; the site reads it with IMAP_URL = dovecot.url()."""

    USER, PASSWORD = "letter", "mailbox-password"

    def __init__(self, ssl="required"):
        import pwd
        import shutil
        import tempfile

        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise FileNotFoundError("dovecot is not installed (apt-get install dovecot-imapd); .ci/run installs it")
        # In /tmp itself, readable by Dovecot's unprivileged processes (pytest's folders are private).
        self.directory = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.directory.chmod(0o755)
        mail = self.directory / "mail"
        mail.mkdir()
        if os.getuid() == 0:  # Dovecot refuses to keep mail as root: nobody keeps it
            owner = pwd.getpwnam("nobody")
            uid, gid, users = owner.pw_uid, owner.pw_gid, ""
            os.chown(mail, uid, gid)
        else:  # everything runs as the one user
            uid, gid, name = os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name
            users = f"default_login_user = {name}\ndefault_internal_user = {name}\n"
        (self.directory / "users").write_text(f"{self.USER}:{{PLAIN}}{self.PASSWORD}::::::\n")
        self.certificate = self.directory / "cert.pem"
        key = self.directory / "key.pem"
        import subprocess

        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"),
                *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key)),
                *("-out", str(self.certificate)),
            ],
            check=True,
            capture_output=True,
        )
        self.imaps_port, self.imap_port = free_port(), free_port()
        tls = f"ssl_cert = <{self.certificate}\nssl_key = <{key}\n" if ssl != "no" else ""
        imaps = f"inet_listener imaps {{\n    port = {self.imaps_port}\n    ssl = yes\n  }}" if ssl != "no" else ""
        (self.directory / "dovecot.conf").write_text(
            f"""base_dir = {self.directory}/run
state_dir = {self.directory}/state
log_path = {self.directory}/dovecot.log
info_log_path = {self.directory}/dovecot.log
{users}protocols = imap
listen = 127.0.0.1
ssl = {ssl}
{tls}disable_plaintext_auth = no
auth_failure_delay = 0
login_trusted_networks = 127.0.0.1/8
first_valid_uid = 1
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.directory}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  {imaps}
}}
"""
        )
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.directory / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"Dovecot did not start: {self.log()}") from None
                time.sleep(0.1)

    def url(self, scheme="imaps", password=None, folder="INBOX"):
        port = self.imaps_port if scheme == "imaps" else self.imap_port
        return f"{scheme}://{self.USER}:{password or self.PASSWORD}@localhost:{port}/{folder}"

    def client(self):
        import imaplib
        import ssl

        context = ssl.create_default_context(cafile=str(self.certificate))
        connection = imaplib.IMAP4_SSL("localhost", self.imaps_port, ssl_context=context, timeout=10)
        connection.login(self.USER, self.PASSWORD)
        return connection

    def deliver(self, *messages, folder="INBOX"):
        """Mail arriving in the mailbox (APPEND, as a mail program files a message)."""
        with self.client() as connection:
            for message in messages:
                kind, answer = connection.append(folder, None, None, bytes(message))
                assert kind == "OK", answer

    def messages(self, folder="INBOX"):
        """The bytes of every message now in the folder (none if there is no such folder)."""
        with self.client() as connection:
            kind, _ = connection.select(f'"{folder}"', readonly=True)
            if kind != "OK":
                return []
            _, found = connection.uid("SEARCH", "ALL")
            uids = found[0].split()
            if not uids:
                return []
            _, data = connection.uid("FETCH", b",".join(uids).decode(), "(BODY.PEEK[])")
            return [item[1] for item in data if isinstance(item, tuple)]

    def empty(self):
        """Every folder emptied and every folder but the inbox deleted: a test starts from nothing."""
        with self.client() as connection:
            _, folders = connection.list()
            for line in folders:  # (\\HasNoChildren) "." Failed
                name = line.decode().split(") ", 1)[1].split(" ", 1)[1].strip('"')
                if name != "INBOX":
                    connection.delete(f'"{name}"')
            _, [count] = connection.select("INBOX")
            if int(count):
                connection.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                connection.expunge()

    def log(self):
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        import shutil

        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        shutil.rmtree(self.directory, ignore_errors=True)


def sign_from_email(raw):
    """A stand-in, for the tests, for the site's handling of an email (petition.inbound): signs as the
    sender, by the From header, in the fetch's transaction. A message whose subject is "unreadable"
    raises after signing (what it signed must be undone)."""
    from email import message_from_bytes, policy
    from email.utils import parseaddr

    from petition.signatures.signing import sign

    message = message_from_bytes(raw, policy=policy.default)
    name, address = parseaddr(str(message["From"]))
    sign(name=name, affiliation="By email", email=address, group="international")
    if message["Subject"] == "unreadable":
        raise ValueError(f"cannot read the message from {address}")


def email_from(name, address, subject="I sign", body="Please add my name.", padding=0):
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = "letter@example.org"
    message["Subject"] = subject
    message.set_content(body + "\n" + "x" * padding)
    return message.as_bytes().replace(b"\n", b"\r\n")
