"""Signing by email: where the web is blocked, mail still crosses. A message to SIGN_BY_EMAIL_ADDRESS,
piped to `flask mail receive` by the mail server (or fetched by `flask mail fetch`), signs, confirms
or marks a bounce through receive_message; every public page offers the invitation (invitation.mailto).

  parsing.py           reading a message within bounds: sender, machine marks, text, the form's lines
  values.py            the Group and Listed lines' values, in either language
  invitation.py        the mailto: link, and the form's lines to fill in
  signing_by_email.py  receive_message: the rules, as the sign form's
  bounces.py           delivery reports of the site's own emails mark a bounced address
  mailbox.py           the IMAP mailbox: its address and a connection over TLS with a login
  imap.py              reading it for `flask mail fetch`: each message handed over once
  models.py            the messages mail fetch took, so none is handled twice
  cli.py               flask mail receive (one message from standard input) and flask mail fetch
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from petition.inbound.invitation import address, form_text, mailto
from petition.inbound.signing_by_email import Outcome, TemporaryFailure, receive_message

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["Outcome", "TemporaryFailure", "receive_message", "register"]


def register(app: Flask) -> None:
    """The invitation on every page (template globals: "" when signing by email is off): the mailto:
    link, and the address written out, for a reader whose browser opens no mail program."""
    app.jinja_env.globals["sign_by_email_link"] = mailto
    app.jinja_env.globals["sign_by_email_address"] = address
    app.jinja_env.globals["sign_by_email_lines"] = form_text
