"""The IMAP mailbox `flask mail fetch` reads: its address (IMAP_URL), and a connection to it over TLS
only, with a login, whose refusals say what to set."""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from typing import Any


TIMEOUT_SECONDS = 30


PORTS = {"imaps": 993, "imap": 143}


class ImapSettingError(ValueError):
    """IMAP_URL cannot be used as it is written."""


class ImapRefused(Exception):
    """The server cannot be used as configured (no TLS, a certificate that does not verify, a
    refused login, no such folder): trying again will not help until a setting changes."""


@dataclass(frozen=True)
class Mailbox:
    """IMAP_URL taken apart: `imaps://user:password@host:993/INBOX` (user and password
    percent-encoded, so `letter%40example.org` for an address; the folder defaults to INBOX)."""

    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str

    @property
    def key(self) -> str:
        """The mailbox as recorded beside each message's UIDs: the same account and folder however
        the address is written (port and scheme may change; the messages do not)."""
        return f"{self.user}@{self.host.lower()}/{self.folder}"

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"Mailbox({self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder})"


def parse_url(url: str) -> Mailbox:
    if not url:
        raise ImapSettingError("IMAP_URL is not set: name the mailbox to read, imaps://user:password@host/INBOX.")
    parts = urlsplit(url)
    if parts.scheme not in PORTS:
        raise ImapSettingError(
            f"IMAP_URL must start with imaps:// (TLS) or imap:// (STARTTLS), not {parts.scheme or 'nothing'}://."
        )
    if not parts.hostname:
        raise ImapSettingError("IMAP_URL names no host.")
    if not parts.username or parts.password is None:
        raise ImapSettingError("IMAP_URL must carry a login: imaps://user:password@host/INBOX.")
    try:
        port = parts.port or PORTS[parts.scheme]
    except ValueError as error:
        raise ImapSettingError(f"IMAP_URL's port is not a number: {error}") from None
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if not folder.isascii():
        raise ImapSettingError("IMAP_URL's folder must be written in ASCII.")
    return Mailbox(parts.scheme, parts.hostname, port, unquote(parts.username), unquote(parts.password), folder)


def quoted(name: str) -> str:
    """A folder name as an IMAP quoted string (it may hold spaces)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """The system's CAs, and IMAP_CA_FILE's besides (a server with a certificate of its own CA)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _ok(answer: tuple[str, list[Any]], doing: str) -> list[Any]:
    kind, data = answer
    if kind != "OK":
        raise imaplib.IMAP4.error(f"{doing}: {_text(data)}")
    return data


def _text(data: list[Any]) -> str:
    return " ".join(item.decode(errors="replace") if isinstance(item, bytes) else str(item) for item in data)


@contextmanager
def connected(mailbox: Mailbox, ca_file: str = "") -> Iterator[imaplib.IMAP4]:
    """Logged in over TLS with the folder selected; logged out on leaving. ImapRefused when it cannot
    be, OSError or imaplib.IMAP4.abort when the server cannot be reached (worth trying again)."""
    context = tls_context(ca_file)
    where = f"{mailbox.host}:{mailbox.port}"
    try:
        if mailbox.scheme == "imaps":
            connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT_SECONDS
            )
        else:
            connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
            _start_tls(connection, context, where)
    except ssl.SSLCertVerificationError as error:
        raise ImapRefused(
            f"The IMAP server's certificate at {where} could not be verified ({error.verify_message}); "
            "set IMAP_CA_FILE if it is signed by a CA of your own."
        ) from None
    try:
        try:
            connection.login(mailbox.user, mailbox.password)
        except imaplib.IMAP4.abort:
            raise  # the connection broke: worth trying again
        except imaplib.IMAP4.error as error:
            raise ImapRefused(
                f"The IMAP server at {where} refused the login of {mailbox.user}: {error}. Check IMAP_URL."
            ) from None
        kind, data = connection.select(quoted(mailbox.folder))
        if kind != "OK":
            raise ImapRefused(f"The folder {mailbox.folder!r} cannot be opened on {where}: {_text(data)}")
        yield connection
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _start_tls(connection: imaplib.IMAP4, context: ssl.SSLContext, where: str) -> None:
    """STARTTLS, or ImapRefused before anything else is said: the password never goes in the clear."""
    if "STARTTLS" not in connection.capabilities:
        connection.shutdown()
        raise ImapRefused(
            f"The IMAP server at {where} offers no STARTTLS: the password is not sent over an unencrypted "
            "connection. Use imaps:// (port 993) or a server that offers STARTTLS."
        )
    try:
        connection.starttls(ssl_context=context)
    except ssl.SSLCertVerificationError:
        connection.shutdown()
        raise
    except imaplib.IMAP4.error as error:
        connection.shutdown()
        raise ImapRefused(f"STARTTLS failed at {where}: {error}") from None
