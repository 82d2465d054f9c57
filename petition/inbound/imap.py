"""Mail that comes in: `flask mail fetch` reads the mailbox named by IMAP_URL and hands each message
to the site once (`fetch_all`), however often the command is stopped and run again.

Each message, in order of its UID:

1. Its size is read first (RFC822.SIZE); one larger than MAX_MESSAGE_BYTES is never downloaded.
2. In one database transaction the message's key (the mailbox, its UIDVALIDITY and the message's
   UID, unique in `inbound_messages`) is recorded and the handler runs on its bytes; then the
   transaction is committed. A second fetcher at the same moment waits on the key and finds it taken.
3. Then, and only then, it leaves the folder: handled, it is deleted and expunged (the site keeps
   what the handler stored, not the email); unhandled (a person's message the site did not act on,
   see signing_by_email.Outcome), it is moved to IMAP_UNHANDLED_FOLDER for the organisers to read;
   failed or too large, it is moved to IMAP_FAILED_FOLDER, where organisers can read it too. Moving
   a failed message back into the folder retries it (the server gives it a new UID). Folders are
   created when first needed.

Each message's outcome is logged by its UID (the action and the reason, never an address).

A message whose key is already recorded was dealt with by a run that stopped before step 3: it is
deleted (or moved) without being handled again. A handler that raises is undone (a savepoint), the
message recorded as failed, logged with its UID, and the next message goes on; it is never retried
by itself. A database or rate-limit store that cannot be reached (OperationalError,
TemporaryFailure) stops the run instead, leaving the message in the folder, unrecorded, for the next.

Only TLS: `imaps://` (TLS from the first byte) or `imap://` with STARTTLS, the server's certificate
and name verified (against the system's CAs and IMAP_CA_FILE). A server that offers no STARTTLS is
refused before the password is sent, whatever its host.

This module is a transaction boundary of its own, like the outbox: each message is committed
before it leaves the mailbox.
"""

from __future__ import annotations

import imaplib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from petition.extensions import db
from petition.inbound.models import InboundMessage
from petition.inbound.signing_by_email import Outcome, TemporaryFailure, receive_message

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any
from petition.inbound.mailbox import ImapRefused, ImapSettingError, _ok, connected, parse_url, quoted

# A handler may say what became of the message (an Outcome: an unhandled one is kept for organisers).
Handler = Callable[[bytes], "Outcome | None"]


MAX_MESSAGE_BYTES = 1_000_000  # an email that signs is a few kilobytes; attachments are not read


SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


UID = re.compile(rb"UID (\d+)")


@dataclass
class FetchReport:
    handled: int = 0
    failed: int = 0
    too_large: int = 0
    unhandled: int = 0  # a person's message the site did not act on, moved for the organisers
    done_earlier: int = 0  # recorded by a run that stopped before the message left the folder

    @property
    def total(self) -> int:
        return self.handled + self.failed + self.too_large + self.unhandled + self.done_earlier

    def describe(self) -> str:
        return (
            f"Fetched {self.total} messages: handled {self.handled}, failed {self.failed}, "
            f"too large {self.too_large}, kept for organisers {self.unhandled}, "
            f"removed {self.done_earlier} handled before."
        )


class _Folder:
    """The selected folder, and what leaving it means for one message."""

    def __init__(self, connection: imaplib.IMAP4, failed_folder: str, unhandled_folder: str) -> None:
        self.connection = connection
        self.failed_folder = failed_folder
        self.unhandled_folder = unhandled_folder
        _ok(connection.capability(), "CAPABILITY")  # what the server can do once logged in
        self.capabilities = connection.capabilities
        self.folders_made: set[str] = set()

    def uids_and_sizes(self) -> list[tuple[int, int]]:
        found = _ok(self.connection.uid("SEARCH", "ALL"), "UID SEARCH")
        uids = sorted(int(uid) for uid in b" ".join(item for item in found if item).split())
        if not uids:
            return []
        sizes: dict[int, int] = {}
        answer = _ok(self.connection.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)"), "UID FETCH")
        for item in answer:
            line = item[0] if isinstance(item, tuple) else item
            uid, size = UID.search(line or b""), SIZE.search(line or b"")
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return [(uid, sizes[uid]) for uid in uids if uid in sizes]

    def message(self, uid: int, limit: int) -> bytes:
        # At most `limit` bytes, whatever the server said the size was.
        answer = _ok(self.connection.uid("FETCH", str(uid), f"(BODY.PEEK[]<0.{limit}>)"), "UID FETCH")
        for item in answer:
            if isinstance(item, tuple) and b"BODY[" in item[0]:
                return bytes(item[1])
        raise imaplib.IMAP4.error(f"UID FETCH {uid}: the server sent no message")

    def delete(self, uid: int) -> None:
        _ok(self.connection.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "UID STORE")
        if "UIDPLUS" in self.capabilities:
            _ok(self.connection.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
        else:
            _ok(self.connection.expunge(), "EXPUNGE")

    def move(self, uid: int, folder: str) -> None:
        if folder not in self.folders_made:
            self.connection.create(quoted(folder))  # NO when it exists; MOVE says if it is missing
            self.connection.subscribe(quoted(folder))  # so mail programs show it
            self.folders_made.add(folder)
        if "MOVE" in self.capabilities:
            _ok(self.connection.uid("MOVE", str(uid), quoted(folder)), "UID MOVE")
        else:
            _ok(self.connection.uid("COPY", str(uid), quoted(folder)), "UID COPY")
            self.delete(uid)

    def leave(self, uid: int, outcome: str) -> None:
        if outcome == "handled":
            self.delete(uid)
        else:
            self.move(uid, self.unhandled_folder if outcome == "unhandled" else self.failed_folder)


def fetch_all(
    handler: Handler,
    url: str,
    *,
    ca_file: str = "",
    failed_folder: str = "Failed",
    unhandled_folder: str = "For organisers",
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> FetchReport:
    """Every message now in the folder, handled once (see the module's docstring). Each message is
    committed on its own; an exception that is not the handler's own (the database, the rate-limit
    store or the server gone, Ctrl-C) rolls back the message under way and stops the run; that
    message is taken up by the next run."""
    mailbox = parse_url(url)
    uid_validity = 0
    report = FetchReport()
    with connected(mailbox, ca_file) as connection:
        validity = connection.response("UIDVALIDITY")[1]
        if not validity or not validity[0]:
            raise ImapRefused(f"The IMAP server gave no UIDVALIDITY for {mailbox.folder!r}.")
        uid_validity = int(validity[0])
        folder = _Folder(connection, failed_folder, unhandled_folder)
        for uid, size in folder.uids_and_sizes():
            try:
                outcome, new = _take(handler, folder, mailbox.key, uid_validity, uid, size, max_bytes)
            except BaseException:
                db.session.rollback()
                raise
            folder.leave(uid, outcome)
            if not new:
                report.done_earlier += 1
            elif outcome == "handled":
                report.handled += 1
            elif outcome == "failed":
                report.failed += 1
            elif outcome == "unhandled":
                report.unhandled += 1
            else:
                report.too_large += 1
    return report


def _take(
    handler: Handler, folder: _Folder, mailbox: str, uid_validity: int, uid: int, size: int, max_bytes: int
) -> tuple[str, bool]:
    """Record one message and handle it, in one transaction, committed. The outcome, and whether it
    was new (False: recorded by an earlier run, not handled again)."""
    too_large = size > max_bytes
    raw = b"" if too_large else folder.message(uid, max_bytes)  # read before the transaction begins
    record = InboundMessage(
        mailbox=mailbox, uid_validity=uid_validity, uid=uid, size=size, outcome="too_large" if too_large else "handled"
    )
    db.session.add(record)
    try:
        db.session.flush()  # a second fetcher waits here until the first commits, then finds the key taken
    except IntegrityError:
        db.session.rollback()
        earlier = db.session.execute(
            select(InboundMessage.outcome).where(
                InboundMessage.mailbox == mailbox,
                InboundMessage.uid_validity == uid_validity,
                InboundMessage.uid == uid,
            )
        ).scalar_one()
        db.session.rollback()
        current_app.logger.info("Inbound message UID %s was %s by an earlier run; it leaves the folder", uid, earlier)
        return earlier, False
    if too_large:
        current_app.logger.warning(
            "Inbound message UID %s is %s bytes, more than %s: not read; moved to the folder %s",
            uid,
            size,
            max_bytes,
            folder.failed_folder,
        )
    else:
        try:
            with db.session.begin_nested():  # what the handler wrote goes if it fails
                result = handler(raw)
        except (OperationalError, TemporaryFailure):
            raise  # the database or the limits' store, not the message: stop, and take it up next time
        except Exception as error:
            current_app.logger.exception(
                "Inbound message UID %s could not be handled; moved to the folder %s", uid, folder.failed_folder
            )
            record.outcome = "failed"
            record.error = type(error).__name__[:100]
        else:
            _log_outcome(uid, result, folder)
            if result is not None and result.for_organisers:
                record.outcome = "unhandled"
    db.session.commit()
    return record.outcome, True


def _log_outcome(uid: int, result: Outcome | None, folder: _Folder) -> None:
    """One line per message: what the site did and why (the reason never holds an address)."""
    if result is not None and result.for_organisers:
        why, where = result.reason, folder.unhandled_folder
        current_app.logger.warning("Inbound message UID %s: not acted on (%s); moved to the folder %s", uid, why, where)
    else:
        action, reason = (result.action, f" ({result.reason})" if result.reason else "") if result else ("handled", "")
        current_app.logger.info("Inbound message UID %s: %s%s; deleted", uid, action, reason)


def sign_by_email(raw: bytes) -> Outcome:
    """The site's own handling of one message (signing, confirming by reply, ignoring auto-replies):
    `petition.inbound.receive_message`, inside the transaction fetch_all commits."""
    return receive_message(raw)


def site_handler(config: Mapping[str, Any]) -> Handler:
    """What `mail fetch` hands each message to: sign_by_email, or the app's INBOUND_HANDLER (set by
    tests that need a handler which fails; never read from the environment)."""
    chosen = config.get("INBOUND_HANDLER")
    return chosen if chosen is not None else sign_by_email


def fetch_forever(
    fetch: Callable[[], FetchReport],
    interval_seconds: float,
    should_stop: Callable[[], bool],
    on_report: Callable[[FetchReport], None],
) -> None:
    """`mail fetch --watch`: fetch, then wait. A server or database that cannot be reached is logged
    and tried again; a setting that cannot work (ImapRefused, ImapSettingError) ends the loop, so a
    wrong password is not tried every few seconds until the provider locks the account."""
    while not should_stop():
        try:
            report = fetch()
            if report.total:
                on_report(report)
        except (ImapRefused, ImapSettingError):
            raise
        except Exception:
            current_app.logger.exception("Fetching inbound mail failed; trying again in %s seconds", interval_seconds)
            db.session.rollback()
        db.session.remove()
        deadline = time.monotonic() + interval_seconds
        while time.monotonic() < deadline and not should_stop():
            time.sleep(min(1.0, interval_seconds))
