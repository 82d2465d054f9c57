"""What a message sent to SIGN_BY_EMAIL_ADDRESS does, by the sign form's own rules.

The sender (From, never Reply-To or Sender) is the signer. A message with the form's lines signs
through signing.sign, as the form does: one signature per address (signing again gets the usual
"already signed" email), throwaway domains refused, groups, review before listing, the confirmation
email in the message's language. A message with a line missing or unreadable gets one short answer
saying what to fix, and signs nothing. A reply from a pending signature's address that carries its
confirmation code confirms it; any other code confirms nothing and is not answered.

Mail written by machines is never acted on and never answered: auto-replies (RFC 3834), bulk and list
mail, messages with an empty return path, from a mail system, or from the site's own addresses; a
delivery report only marks a bounced address (bounces.py). Mail sent to the site in a flood from one
address or one domain is dropped past SIGN_LIMIT_PER_EMAIL and SIGN_BY_EMAIL_LIMIT_PER_DOMAIN.

A person's message the site does not act on (no form lines and no code that confirms, no readable
text or sender, or signing by email off) is "unhandled": it is for the organisers to read, and
`mail fetch` keeps it in IMAP_UNHANDLED_FOLDER rather than delete it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from limits import parse_many
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.datastructures import MultiDict

from petition.db.types import now_utc
from petition.extensions import limiter
from petition.inbound import bounces, invitation, parsing
from petition.inbound.values import group_of, listed_of
from petition.letter import closing
from petition.mail.outbox import queue_email
from petition.mail.signer_emails import render_email
from petition.privacy.addresses import domain_hash, email_hash, is_disposable
from petition.signatures import signing
from petition.signatures.confirmation_codes import codes_in, matches
from petition.web.text import EmailNotValidError, normalise_email


@dataclass(frozen=True)
class Outcome:
    """What became of one message: `action` is one of signed, signed_again, confirmed, answered,
    bounce, ignored (machine mail or a flood: nothing for a person to read), unhandled (a person's
    message the site did not act on: for the organisers to read); `reason` says why, for the log (it
    never holds an address)."""

    action: str
    reason: str = ""
    signature_id: int | None = None

    @property
    def for_organisers(self) -> bool:
        return self.action == "unhandled"


class TemporaryFailure(RuntimeError):
    """The database or the limits' store could not be reached: nothing was done; try the message again."""


PROBLEMS_SUBJECT = _l("Your email to sign the open letter: one more step")


def receive_message(raw: bytes) -> Outcome:
    """Act on one message (RFC 5322 bytes) in the caller's transaction: the changes are flushed, and
    the caller commits (or rolls back) once per message. Never raises for what the message holds;
    raises TemporaryFailure when the database or the limits' store is away."""
    try:
        return _receive(raw)
    except (OperationalError, DBAPIError) as error:
        if isinstance(error, OperationalError) or error.connection_invalidated:
            raise TemporaryFailure(str(error.orig or error)) from error
        raise
    except (ConnectionError, TimeoutError) as error:  # the limits' store (Redis)
        raise TemporaryFailure(f"{type(error).__name__}: {error}") from error


def _receive(raw: bytes) -> Outcome:
    try:
        message = parsing.parse(raw)
    except parsing.Unreadable as error:
        return Outcome("unhandled", f"unreadable: {error}")
    if not invitation.address():
        machine = "delivery report" if bounces.is_delivery_report(message) else written_by_a_machine(message)
        return Outcome("ignored", machine) if machine else Outcome("unhandled", "signing by email is off")
    if bounces.is_delivery_report(message):
        marked = bounces.record_bounce(message)
        return Outcome("bounce", f"marked {len(marked)} signature(s) bounced")
    machine = written_by_a_machine(message)
    if machine:
        return Outcome("ignored", machine)
    try:
        sender = normalise_email(message.sender or "")
    except EmailNotValidError:
        return Outcome("unhandled", "no single plain From address")
    if sender in own_addresses():
        return Outcome("ignored", "sent from the site's own address")
    confirmed = confirm_by_reply(message, sender)
    if confirmed is not None:
        return confirmed
    if not message.fields:
        return Outcome("unhandled", "neither the form's lines nor a code")
    if not within_limits(sender):
        return Outcome("ignored", "too many messages from this address or its domain")
    return sign_from(message, sender)


def written_by_a_machine(message: parsing.Parsed) -> str:
    """Why the message was written by a machine (an auto-reply, a list, a bounce), or ""."""
    headers = message.headers
    auto = headers["auto-submitted"].strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "Auto-Submitted"
    if headers["precedence"].strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "Precedence"
    if headers["x-autoreply"] or headers["x-autorespond"]:
        return "X-Autoreply"
    if headers["x-auto-response-suppress"] and "oof" in headers["x-auto-response-suppress"].lower():
        pass  # Outlook asks others not to answer; it does not say this message is one
    if headers["return-path"].replace(" ", "") == "<>":
        return "empty return path"
    if headers["list-id"] or headers["list-unsubscribe"]:
        return "mailing list"
    if message.content_type == "multipart/report" or bounces.from_a_mail_system(message):
        return "from a mail system"
    if headers["x-loop"] and parseaddr(headers["x-loop"])[1].lower() in own_addresses():
        return "X-Loop"
    return ""


def own_addresses() -> set[str]:
    config = current_app.config
    return {
        parseaddr(value)[1].lower()
        for value in (config.get("SIGN_BY_EMAIL_ADDRESS", ""), config.get("MAIL_DEFAULT_SENDER", ""))
        if value
    }


def confirm_by_reply(message: parsing.Parsed, sender: str) -> Outcome | None:
    """A reply carrying the code of the sender's own pending signature confirms it (the code quoted
    from the confirmation email, anywhere in the subject or body). None when the message holds no
    code; a code that confirms nothing confirms nothing and is not answered (the message is left for
    the organisers, unless it has the form's lines)."""
    codes = codes_in(message.subject + "\n" + message.text)
    if not codes:
        return None
    signature = signing.signature_by_email(sender)
    if signature is None or signature.is_confirmed:
        return Outcome("unhandled", "a code, and no pending signature for this address") if not message.fields else None
    age = timedelta(seconds=current_app.config["CONFIRM_MAX_AGE"])
    if signature.signed_at + age < now_utc() or not any(matches(signature, code) for code in codes[:20]):
        return Outcome("unhandled", "a code that is not this signature's") if not message.fields else None
    signing.confirm_signature(signature)
    return Outcome("confirmed", signature_id=signature.id)


def within_limits(sender: str) -> bool:
    """One hit against the address's limit (SIGN_LIMIT_PER_EMAIL, as the form) and its domain's
    (SIGN_BY_EMAIL_LIMIT_PER_DOMAIN), kept in the site's rate-limit store under keyed hashes.
    TemporaryFailure when the store cannot be reached (redis-py's errors are not the built-in
    ConnectionError, and another store raises its own): the message is tried again later."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    config, strategy = current_app.config, limiter.limiter
    checks = [
        (config["SIGN_LIMIT_PER_EMAIL"], "address", email_hash(sender)),
        (config["SIGN_BY_EMAIL_LIMIT_PER_DOMAIN"], "domain", domain_hash(sender)),
    ]
    allowed = True
    for setting, kind, key in checks:
        for limit in parse_many(setting):
            try:
                hit = strategy.hit(limit, "sign-by-email", kind, key)
            except Exception as error:  # whatever the store raises, it is the store's failure, not the message's
                raise TemporaryFailure(f"the rate-limit store: {type(error).__name__}: {error}") from error
            allowed = hit and allowed
    return allowed


def sign_from(message: parsing.Parsed, sender: str) -> Outcome:
    """Sign with the message's lines, or answer once with what to fix."""
    language = message.language
    values, problems = checked_values(message.fields, sender, language)
    if closing.is_closed():
        problems = [_l("Signing has closed: the letter no longer takes signatures.")]
    if problems:
        answer(sender, language, problems)
        return Outcome("answered", f"{len(problems)} problem(s)")
    try:
        outcome = signing.sign(email=sender, language=language, wants_updates=False, **values)
    except closing.SigningClosed:
        answer(sender, language, [_l("Signing has closed: the letter no longer takes signatures.")])
        return Outcome("answered", "signing has closed")
    return Outcome("signed" if outcome.created else "signed_again", signature_id=outcome.signature.id)


def checked_values(fields: dict[str, str], sender: str, language: str) -> tuple[dict[str, object], list[object]]:
    """The signing's values from the lines, checked by the sign form's own fields (the same cleaning
    and messages), and what is wrong, each as "Label: what to do"."""
    from petition.signatures.forms import SignatureForm  # the form's module reads the web's locale: imported when used

    group = group_of(fields.get("group", ""))
    listed = listed_of(fields.get("listed", ""))
    form = SignatureForm(
        formdata=MultiDict(
            {"name": fields.get("name", ""), "affiliation": fields.get("affiliation", ""), "email": sender}
            | ({"group": group} if group else {})
        ),
        meta={"csrf": False},
    )
    form.validate()
    problems: list[object] = []
    labels = dict(zip(("name", "affiliation", "group", "listed"), invitation.FORM_LABELS[language], strict=True))
    for key in ("name", "affiliation"):
        problems += [labelled(labels[key], error) for error in form.errors.get(key, [])]
    if group is None:
        problems.append(labelled(labels["group"], _l("Write one of the groups, as the line asks.")))
    if listed is None:
        problems.append(labelled(labels["listed"], _l("Write yes or no.")))
    if is_disposable(sender):
        problems += [str(error) for error in form.errors.get("email", [])]
    values = {"name": form.name.data or "", "affiliation": form.affiliation.data or ""}
    values |= {"group": group, "listed": listed}
    return values, problems


def labelled(label: str, message: object) -> object:
    """A problem beside the form line's own label (as the invitation writes it, without its colon)."""
    return _l("%(label)s: %(message)s", label=label.rstrip(":："), message=message)


def answer(sender: str, language: str, problems: list[object]) -> None:
    """One email to the sender, in the message's language: what to fix and the lines to fill again."""
    with force_locale(language):
        body = render_email(
            "emails/sign_by_email_problems.txt",
            problems=[str(problem) for problem in problems],
            address=invitation.address(),
            form=invitation.form_text(language),
        )
        queue_email(sender, str(PROBLEMS_SUBJECT), body)
