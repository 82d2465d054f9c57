"""`flask mail receive`: one message read from standard input, as a mail server's pipe delivers it,
acted on in one transaction (a command's boundary)."""

from __future__ import annotations

import sys
from typing import BinaryIO

import click
from flask import current_app

from petition.extensions import db
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
def receive_command() -> None:
    """Act on one email (RFC 5322) read from standard input, as a mail server's pipe delivers it:
    sign, confirm by reply, or mark a bounce, in one transaction. Exits 0, also for mail it ignores
    (its reason is logged); 75 (EX_TEMPFAIL) when the database is away, so the server tries again."""
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
    current_app.logger.info("Mail: %s %s", outcome.action, outcome.reason)
    click.echo(f"{outcome.action}{': ' + outcome.reason if outcome.reason else ''}")
