"""Handing an email to the world: over SMTP, or to the log when no mail server is configured."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, gettext

from petition.mail.email_text import html_version, language_of
from petition.mail.models import CARRYING_THE_CODE
from petition.web.text import EmailNotValidError, normalise_email

if TYPE_CHECKING:
    from flask.config import Config

    from petition.mail.models import OutgoingEmail


class TemporaryFailure(Exception):
    """The mail server could not be reached or asked us to try later: keep the email and retry."""


class PermanentFailure(Exception):
    """The mail server refused this email for good (for example, no such recipient)."""


def message_id(outgoing: OutgoingEmail) -> str:
    """The same for every attempt at one outbox row: if a worker dies after the server accepted the
    email but before the row said so, the email goes again with this id, and mail systems that
    de-duplicate by Message-ID show it once."""
    return f"<outbox.{outgoing.id}.{int(outgoing.created_at.timestamp())}@{site_domain()}>"


def site_domain() -> str:
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


class UnsendableAddress(ValueError):
    """The stored address is not one the site accepts today (a row from before the rule, or edited by hand)."""


def recipient(outgoing: OutgoingEmail) -> Address:
    """The stored address as a header object: never parsed from text, so it cannot smuggle headers,
    and only if it is exactly what the signing form would store today."""
    address = outgoing.to_address
    if address is None:
        raise UnsendableAddress("its address was erased")
    try:
        plain = normalise_email(address) == address
    except EmailNotValidError:
        plain = False
    if not plain:
        raise UnsendableAddress(f"{address!r} is not a plain email address")
    local, _, domain = address.rpartition("@")
    return Address(username=local, domain=domain)


# Headers set with set_raw go out exactly as given. Python would otherwise turn a header line longer
# than 78 characters with no space to fold at (a long unsubscribe address) into RFC 2047 encoded
# words, which List-Unsubscribe may not contain: mail providers would find no <https://...> in it.
MESSAGE_POLICY = policy.default.clone(refold_source="none")


def sign_by_email_address() -> str:
    """SIGN_BY_EMAIL_ADDRESS as a plain address: where mail to the site is read ("" when it is not)."""
    return parseaddr(current_app.config.get("SIGN_BY_EMAIL_ADDRESS") or "")[1]


def reply_address(outgoing: OutgoingEmail) -> str:
    """Where a reply should go: SIGN_BY_EMAIL_ADDRESS for an email a reply can confirm, when signing
    by email is on, so the reply is read whatever the sender's address is; "" otherwise."""
    return sign_by_email_address() if outgoing.template in CARRYING_THE_CODE else ""


def build_message(outgoing: OutgoingEmail) -> EmailMessage:
    if outgoing.subject is None or outgoing.body is None:
        raise ValueError("the email has not been written")
    language = language_of(outgoing.subject)
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = sender(language)
    message["To"] = recipient(outgoing)
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(outgoing)
    # Sent by the site, not typed by a person (RFC 3834): an out-of-office or another autoresponder
    # must not answer it, so signing by email can never start a loop between two machines.
    message["Auto-Submitted"] = "auto-generated"
    replies_to = reply_address(outgoing)
    if replies_to:
        message["Reply-To"] = replies_to
    if outgoing.unsubscribe_url:  # news: a one-click unsubscribe that mail programs show (RFC 8058)
        message.set_raw("List-Unsubscribe", f"<{one_line(outgoing.unsubscribe_url)}>")
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # The list these emails belong to (RFC 2919): mail programs group and filter by it, and
        # spam filters count an unsubscribe header without one as a half-made mailing list.
        message["List-Id"] = f"News about the open letter <news.{site_domain()}>"
    message.set_content(outgoing.body)
    message.add_alternative(html_version(outgoing.body, language), subtype="html")
    return message


def sender(language: str) -> str | Address:
    """MAIL_DEFAULT_SENDER as it is set, if it has a name of its own ("Name <address>"); a bare address
    goes out under the site's name in the email's language, which tells a signer what the email is
    about better than any fixed name (and the same in their inbox as on the site's pages)."""
    configured = str(current_app.config["MAIL_DEFAULT_SENDER"])
    name, address = parseaddr(configured)
    if name or "@" not in address:
        return configured
    with force_locale("zh" if language.startswith("zh") else "en"):
        display = gettext("Open letter on labour NGOs in Guangdong")
    username, _, domain = address.rpartition("@")
    return Address(display_name=display, username=username, domain=domain)


def one_line(value: str) -> str:
    """A value for a raw header: a line break in it would start a header of the sender's choosing."""
    if "\r" in value or "\n" in value:
        raise ValueError("a header value may not contain a line break")
    return value


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """Sender and recipient for the SMTP envelope: the plain addresses of From and To, as stored."""
    return message["From"].addresses[0].addr_spec, [address.addr_spec for address in message["To"].addresses]


def server_said(code: int, text: bytes | str) -> str:
    """The server's answer as an organiser can read it: '550 5.1.1 No such user'."""
    readable = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    return f"{code} {readable}"


def text_of(message: EmailMessage) -> str:
    plain = message.get_body(("plain",))
    return plain.get_content() if plain is not None else ""


class ConsoleTransport:
    """Development: print each email so a person can follow the links without a mail server."""

    def __enter__(self) -> ConsoleTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: EmailMessage) -> None:
        # Decoded, not as sent on the wire, so links can be copied from the console as they are.
        current_app.logger.warning(
            "Email (no MAIL_SERVER set, so not sent)\nTo: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            text_of(message),
        )


class SmtpTransport:
    """One SMTP connection for a batch of emails."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        self._connect()
        return self

    def _connect(self) -> None:
        config = self.config
        try:
            connection = smtplib.SMTP(
                config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"]
            )
            self.connection = connection
            if config["MAIL_USE_TLS"]:
                # Verify the server's certificate and name, or a network attacker reads every link.
                context = ssl.create_default_context(cafile=config.get("MAIL_TLS_CA_FILE") or None)
                connection.starttls(context=context)
            if config["MAIL_USERNAME"]:
                connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (OSError, smtplib.SMTPException) as error:
            self.connection = None
            raise TemporaryFailure(
                f"cannot connect to {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {error}"
            ) from error

    def __exit__(self, *exc: object) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (OSError, smtplib.SMTPException):
            pass

    def send(self, message: EmailMessage) -> None:
        sender, recipients = envelope(message)
        try:
            if self.connection is None:
                self._connect()
            assert self.connection is not None  # _connect raised otherwise
            self.connection.send_message(message, sender, recipients)
        except smtplib.SMTPNotSupportedError as error:
            # e.g. a non-ASCII mailbox and a server without SMTPUTF8: asking again will not help.
            raise PermanentFailure(f"the mail server cannot take this address: {error}") from error
        except smtplib.SMTPServerDisconnected as error:
            self.connection = None  # the next email opens a new connection
            raise TemporaryFailure(f"the mail server closed the connection: {error}") from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            said = "; ".join(server_said(code, text) for code, text in error.recipients.values())
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {said}") from error
            raise TemporaryFailure(f"recipient deferred: {said}") from error
        except smtplib.SMTPResponseException as error:
            failure = PermanentFailure if 500 <= error.smtp_code < 600 else TemporaryFailure
            raise failure(server_said(error.smtp_code, error.smtp_error)) from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(str(error)) from error


Transport = SmtpTransport | ConsoleTransport


def open_transport() -> Transport:
    config = current_app.config
    return SmtpTransport(config) if config["MAIL_SERVER"] else ConsoleTransport()
