"""Signing by email: where the web is blocked, mail still crosses. A message to SIGN_BY_EMAIL_ADDRESS,
piped to `flask mail receive` by the mail server (or fetched by `flask mail fetch`), signs, confirms
or marks a bounce through receive_message; every public page offers the invitation (invitation.mailto).

  parsing.py           reading a message within bounds: sender, machine marks, text, the form's lines
  values.py            the Group and Listed lines' values, in either language
  invitation.py        the mailto: link, and the form's lines to fill in
  signing_by_email.py  receive_message: the rules, as the sign form's
  bounces.py           delivery reports of the site's own emails mark a bounced address
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, BinaryIO

import click
from flask import current_app

from ..extensions import db
from .invitation import mailto
from .parsing import MAX_BYTES
from .signing_by_email import Outcome, TemporaryFailure, receive_message

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["Outcome", "TemporaryFailure", "receive_command", "receive_message", "register"]

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


def register(app: Flask) -> None:
    """The invitation on every page (a template global: "" when signing by email is off)."""
    app.jinja_env.globals["sign_by_email_link"] = mailto
