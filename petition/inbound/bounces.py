"""Bounces of the site's own emails: a delivery status notification (RFC 3464, multipart/report)
that says an email the site sent could not be delivered marks its signature's address as bounced,
for the organisers to see.

Anyone can write a message that looks like a bounce, so one counts only if it carries the headers of
the site's own email back (text/rfc822-headers or message/rfc822): its Message-ID names an outbox
row (mailer.message_id), and that row went to the address the report names (by keyed hash). Only a
report whose action is "failed" counts: "delayed" means the mail is still being tried.
"""

from __future__ import annotations

import re
from email import message_from_bytes, message_from_string, policy
from email.message import Message
from email.utils import getaddresses

from sqlalchemy import select, update

from petition.db.types import now_utc
from petition.extensions import db
from petition.inbound.parsing import Parsed
from petition.mail.mailer import site_domain
from petition.mail.models import OutgoingEmail
from petition.privacy.addresses import email_hash
from petition.signatures.models import Signature
from petition.web.text import EmailNotValidError, normalise_email


def is_delivery_report(parsed: Parsed) -> bool:
    return parsed.content_type == "multipart/report"


def failed_recipients(parsed: Parsed) -> list[str]:
    """The recipients a delivery status report says failed for good (Final- or Original-Recipient of
    each block whose Action is failed), as the site stores addresses."""
    found = []
    for part in parsed.parts:
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            if str(block.get("action", "")).strip().lower() != "failed":
                continue
            for name in ("final-recipient", "original-recipient"):
                kind, _, value = str(block.get(name, "")).partition(";")
                if kind.strip().lower() == "rfc822" and value.strip():
                    try:
                        found.append(normalise_email(value.strip()))
                    except EmailNotValidError:
                        continue
    return list(dict.fromkeys(found))


def _status_blocks(part: Message) -> list[Message]:
    """The per-recipient blocks of a message/delivery-status part (the parser gives them as messages;
    read from text when it did not)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    return [message_from_string(chunk, policy=policy.compat32) for chunk in re.split(r"\r?\n\r?\n", text)[:50]]


_OUR_ID = re.compile(r"<outbox\.(\d{1,18})\.(\d{1,12})@([^>\s]+)>")


def returned_outbox_ids(parsed: Parsed) -> list[int]:
    """The outbox rows whose email the report carries back (its Message-ID, made by mailer.message_id)."""
    ids = []
    for part in parsed.parts:
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            headers = message_from_bytes(data if isinstance(data, bytes) else b"", policy=policy.compat32)
        elif kind == "message/rfc822":
            inner = part.get_payload()
            headers = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else Message()
        else:
            continue
        found = _OUR_ID.search(str(headers.get("message-id", "")))
        if found and found.group(3).lower() == site_domain().lower():
            ids.append(int(found.group(1)))
    return ids


def record_bounce(parsed: Parsed) -> list[int]:
    """Mark the addresses this report says bounced, where it carries back an email the site sent to
    them; the ids of the signatures marked (each once: the first bounce's time is kept)."""
    recipients = {email_hash(address) for address in failed_recipients(parsed)}
    ids = returned_outbox_ids(parsed)
    if not recipients or not ids:
        return []
    sent_to = set(
        db.session.execute(
            select(OutgoingEmail.to_hash).where(OutgoingEmail.id.in_(ids), OutgoingEmail.sent_at.is_not(None))
        ).scalars()
    )
    hashes = recipients & sent_to
    if not hashes:
        return []
    marked = db.session.execute(
        update(Signature)
        .where(Signature.email_hash.in_(hashes), Signature.bounced_at.is_(None))
        .values(bounced_at=now_utc())
        .returning(Signature.id)
        .execution_options(synchronize_session=False)
    )
    return list(marked.scalars())


def from_a_mail_system(parsed: Parsed) -> bool:
    """Mail written by a mail system rather than a person (mailer-daemon, postmaster)."""
    local = (parsed.sender or "").rpartition("@")[0].lower()
    return local in ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon") or any(
        address.lower().startswith("mailer-daemon@") for _, address in getaddresses([parsed.headers.get("from", "")])
    )
