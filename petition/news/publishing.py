"""News about the letter: organisers publish updates in both languages; signers who asked for news
get each one by email, in their language, with a one-click unsubscribe (RFC 8058).

Emailing an update never makes a request wait: publishing only asks for a mailing, and the mail
worker queues it to subscribers in batches (mail/mailings.py), in signature order, remembering how
far it got, spread out to NEWS_PER_MINUTE. The outbox refuses a second email of one update to one
signature (a unique index), so a batch queued twice sends nothing twice. Each email is written when
it is sent (write_news): an update corrected meanwhile goes out corrected, and a signer who stopped
the news meanwhile gets nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import force_locale, gettext
from markupsafe import Markup
from sqlalchemy import delete, func, select

from petition.db.types import now_utc
from petition.extensions import db
from petition.mail import mailings
from petition.mail.email_text import html_version, language_of, markdown_as_text
from petition.mail.models import Mailing, OutgoingEmail
from petition.mail.signer_emails import render_email, write_each
from petition.news.models import Update
from petition.organisers import audit
from petition.organisers.models import Organiser
from petition.signatures.models import Signature
from petition.signatures.tokens import UNSUBSCRIBE, make_token
from petition.web.links import site_link
from petition.web.locales import SUPPORTED

TITLE_MAX = 200
BODY_MAX = 20000


def published_updates() -> Sequence[Update]:
    """What readers see, newest first."""
    return (
        db.session.execute(
            select(Update).where(Update.withdrawn_at.is_(None)).order_by(Update.published_on.desc(), Update.id.desc())
        )
        .scalars()
        .all()
    )


def last_change() -> datetime | None:
    """When the news last changed: published, corrected or withdrawn (the feeds' Last-Modified)."""
    latest = db.session.execute(
        select(func.max(Update.changed_at), func.max(Update.withdrawn_at), func.max(Update.created_at))
    ).one()
    moments = [moment for moment in latest if moment is not None]
    return max(moments) if moments else None


def all_updates() -> Sequence[Update]:
    """What organisers see: withdrawn ones too."""
    return db.session.execute(select(Update).order_by(Update.published_on.desc(), Update.id.desc())).scalars().all()


def written(published_on: date, titles: dict[str, str], bodies: dict[str, str]) -> Update:
    """News as an organiser wrote it, in both languages, not yet stored."""
    return Update(
        published_on=published_on,
        title_en=titles["en"],
        title_zh=titles["zh"],
        body_en=bodies["en"],
        body_zh=bodies["zh"],
    )


def publish(
    organiser: Organiser, *, published_on: date, titles: dict[str, str], bodies: dict[str, str], email: bool
) -> Update:
    update = written(published_on, titles, bodies)
    db.session.add(update)
    db.session.flush()
    if email:
        mailings.request("update", update_id=update.id)
    audit.record(organiser, "publish-update", f"update #{update.id}", "emailed to subscribers" if email else "")
    return update


@dataclass(frozen=True)
class Preview:
    """News as it will read, in one language: on the letter's page, and as the email to a signer."""

    language: str
    update: Update
    subject: str
    text: str  # the email's plain text, as sent
    html: str  # the email's HTML part, made from the text as the mailer makes it
    page: Markup | None = None  # the news on the letter's page (the view renders it: a template)

    @property
    def html_body(self) -> Markup:
        """The HTML part's body, to show inside a page (html_version escaped the text in it)."""
        found = re.search(r"<body[^>]*>(.*)</body>", self.html, re.S)
        return Markup(found.group(1) if found else "")


def preview(*, published_on: date, titles: dict[str, str], bodies: dict[str, str]) -> list[Preview]:
    """How news will read before it is published, in each language, made by the code that makes the
    real page and the real emails (news_email, email_text.html_version); nothing is saved. The
    email is the one a signer in that language would get, with a link to stop the news that names
    no one."""
    update = written(published_on, titles, bodies)
    previews = []
    for language in SUPPORTED:
        reader = Signature(id=0, secret="preview", language=language, email="")
        with force_locale(language):
            email = news_email(update, reader)
        subject, text = str(email["subject"]), str(email["body"])
        previews.append(Preview(language, update, subject, text, html_version(text, language_of(subject))))
    return previews


def edit(
    update: Update, organiser: Organiser, *, published_on: date, titles: dict[str, str], bodies: dict[str, str]
) -> None:
    """Correct an update. Emails already sent stay as they were; every one not yet sent goes out
    corrected, queued or not (each is written when it is sent)."""
    update.published_on = published_on
    update.title_en, update.title_zh = titles["en"], titles["zh"]
    update.body_en, update.body_zh = bodies["en"], bodies["zh"]
    update.changed_at = now_utc()
    audit.record(organiser, "edit-update", f"update #{update.id}")
    db.session.flush()


def withdraw(update: Update, organiser: Organiser, reason: str) -> None:
    """Take an update off the site and the feeds; its emails not yet sent are dropped."""
    update.withdrawn_at = now_utc()
    db.session.execute(
        delete(OutgoingEmail).where(OutgoingEmail.update_id == update.id, OutgoingEmail.sent_at.is_(None))
    )
    audit.record(organiser, "withdraw-update", f"update #{update.id}", reason)
    db.session.flush()


def unsubscribe(signature: Signature) -> None:
    """No more news for this signer, from now: news emails not yet sent are dropped. Doing it twice
    changes nothing; the signature itself is untouched."""
    signature.wants_updates = False
    db.session.execute(
        delete(OutgoingEmail).where(
            OutgoingEmail.signature_id == signature.id,
            OutgoingEmail.update_id.is_not(None),
            OutgoingEmail.sent_at.is_(None),
        )
    )
    db.session.flush()


def unsubscribe_url(signature: Signature) -> str:
    return site_link("public.unsubscribe", token=make_token(signature, UNSUBSCRIBE), lang=signature.language)


def news_email(update: Update, signature: Signature) -> dict[str, str]:
    """One update's email to one signer: its subject, body and unsubscribe address. The caller has
    switched to the signer's language (in_their_languages)."""
    link = unsubscribe_url(signature)
    letter_url = site_link("public.index", lang=signature.language)
    body = render_email(
        "emails/update.txt",
        update=update,
        language=signature.language,
        # Read as text in any mail program: no Markdown marks, every link written out in full.
        news_text=markdown_as_text(update.body(signature.language), letter_url),
        letter_url=letter_url,
        unsubscribe_url=link,
    )
    subject = gettext("News about the open letter: %(title)s", title=update.title(signature.language))
    return {"subject": subject[:300], "body": body, "unsubscribe_url": link}


def write_news(emails: Sequence[OutgoingEmail]) -> dict[int, str | None]:
    """The mail worker's writer of news emails ("update" rows): each written as the update is now, in
    its signer's language. One whose update was withdrawn, or whose signer no longer wants news (or
    no longer counts), is not sent at all."""
    ids = {email.update_id for email in emails}
    updates = {u.id: u for u in db.session.execute(select(Update).where(Update.id.in_(ids))).scalars()}

    def write(email: OutgoingEmail, signature: Signature) -> bool:
        update = updates.get(email.update_id or 0)
        if update is None or update.withdrawn_at is not None or not (signature.wants_updates and signature.counted):
            return False
        written = news_email(update, signature)
        email.subject, email.body, email.unsubscribe_url = (
            written["subject"],
            written["body"],
            written["unsubscribe_url"],
        )
        return True

    return write_each(emails, write)


def subscriber_count() -> int:
    """How many signers would get news emailed now: counted, and asked for it."""
    return (
        db.session.scalar(
            select(func.count()).select_from(Signature).where(Signature.counted, Signature.wants_updates.is_(True))
        )
        or 0
    )


def subscribers_after(last_id: int, limit: int) -> Sequence[Signature]:
    return (
        db.session.execute(
            select(Signature)
            .where(Signature.counted, Signature.wants_updates.is_(True), Signature.id > last_id)
            .order_by(Signature.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def _subscribers(mailing: Mailing, after_id: int, limit: int) -> Sequence[Signature]:
    """Who is still to get the update: nobody once it is withdrawn."""
    update = db.session.get(Update, mailing.update_id)
    if update is None or update.withdrawn_at is not None:
        return []
    return subscribers_after(after_id, limit)


# Registered with the mail worker when the app is made (create_app).
NEWS_MAILING = mailings.MailingKind("update", recipients=_subscribers, write=write_news, paced=True)
