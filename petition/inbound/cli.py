"""`flask mail receive` (one message read from standard input, as a mail server's pipe delivers it,
acted on in one transaction) and `flask mail fetch` (the messages in an IMAP mailbox, each once)."""

from __future__ import annotations

import imaplib
import signal
import sys
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext

from petition.extensions import db
from petition.inbound import imap as imap_module
from petition.inbound import mailbox
from petition.inbound.parsing import MAX_BYTES
from petition.inbound.signing_by_email import TemporaryFailure, receive_message

EX_TEMPFAIL = 75  # sysexits.h: the mail server keeps the message and tries again later


def read_capped(stream: BinaryIO, limit: int = MAX_BYTES) -> bytes:
    """At most limit + 1 bytes of the message (one more says it was too large); the rest is read and
    dropped, so the mail server's pipe is not cut short."""
    data = stream.read(limit + 1)
    while stream.read(1 << 16):
        pass
    return data


@click.command("receive")
@with_appcontext
def receive_command() -> None:
    """Act on one email (RFC 5322) read from standard input, as a mail server's pipe delivers it:
    sign, confirm by reply, or mark a bounce, in one transaction. Exits 0, also for mail it does not
    act on (its reason is logged; a person's message is logged as a warning, as the pipe keeps no
    copy); 75 (EX_TEMPFAIL) when the database or the rate-limit store is away, so the server tries
    again."""
    raw = read_capped(sys.stdin.buffer)
    try:
        outcome = receive_message(raw)
        db.session.commit()
    except TemporaryFailure as error:
        db.session.rollback()
        current_app.logger.warning("Mail not taken, to be tried again: %s", error)
        sys.exit(EX_TEMPFAIL)
    except Exception:  # a message that breaks something unforeseen is logged and dropped, never retried for ever
        db.session.rollback()
        current_app.logger.exception("Mail could not be acted on")
        return
    if outcome.for_organisers:
        current_app.logger.warning("Mail not acted on, and not kept (%s): %s", outcome.action, outcome.reason)
    else:
        current_app.logger.info("Mail: %s %s", outcome.action, outcome.reason)
    click.echo(f"{outcome.action}{': ' + outcome.reason if outcome.reason else ''}")


@click.command("fetch")
@with_appcontext
@click.option("--watch", is_flag=True, help="Keep running and fetch new mail as it arrives.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between looks at the mailbox (--watch).")
def fetch_command(watch: bool, interval: float) -> None:
    """Read every message in the mailbox IMAP_URL names and hand each to the site once; handled
    messages are deleted, a person's message the site did not act on moved to IMAP_UNHANDLED_FOLDER,
    failed or oversize ones to IMAP_FAILED_FOLDER (then exit, or keep going with --watch). The
    database or the rate-limit store away stops the run, the message kept in the mailbox."""
    config = current_app.config
    try:
        handler = imap_module.site_handler(config)
        mailbox.parse_url(config["IMAP_URL"])  # a setting that cannot work says so before anything runs

        def fetch() -> imap_module.FetchReport:
            return imap_module.fetch_all(
                handler,
                config["IMAP_URL"],
                ca_file=config["IMAP_CA_FILE"],
                failed_folder=config["IMAP_FAILED_FOLDER"],
                unhandled_folder=config["IMAP_UNHANDLED_FOLDER"],
            )

        if not watch:
            click.echo(fetch().describe())
            return
        stop = []
        before = signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        click.echo("Fetching mail; stop with Ctrl-C.")
        try:
            imap_module.fetch_forever(fetch, interval, lambda: bool(stop), lambda r: click.echo(r.describe()))
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, before)
    except (mailbox.ImapRefused, mailbox.ImapSettingError) as error:
        raise click.ClickException(str(error)) from None
    except (OSError, imaplib.IMAP4.error) as error:
        raise click.ClickException(f"Fetching mail stopped: {error}") from None
    except TemporaryFailure as error:
        raise click.ClickException(f"Fetching mail stopped; the message stays in the mailbox: {error}") from None
