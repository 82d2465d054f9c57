"""The text people signed. Each published text of the letter is a version: a number, a date, a reason,
and the text in both languages with its SHA-256. The site shows the newest version, not the Markdown
file: an edited file is shown only once `flask letter publish` records it. Before the first version
is published (a new site), the file is shown as it is, and the first signature publishes it as
version 1 (publish_first), so that every signature records the text its signer read.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from flask import g, has_request_context
from flask_babel import gettext
from sqlalchemy import ColumnElement, Table, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petition.db.types import now_utc
from petition.extensions import db
from petition.letter.content import content_path
from petition.letter.models import LetterVersion
from petition.mail import mailings
from petition.mail.models import Mailing, OutgoingEmail
from petition.mail.signer_emails import render_email, write_each
from petition.signatures.models import Signature
from petition.signatures.tokens import MANAGE, make_token
from petition.web.links import site_link
from petition.web.locales import SUPPORTED

if TYPE_CHECKING:
    from datetime import datetime


class NothingToPublish(ValueError):
    pass


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current() -> LetterVersion | None:
    """The newest published version (read once per request), or None before the first."""
    if has_request_context() and "letter_version" in g:
        return g.letter_version
    version = db.session.execute(
        select(LetterVersion).order_by(LetterVersion.number.desc()).limit(1)
    ).scalar_one_or_none()
    if has_request_context():
        g.letter_version = version
    return version


def current_number() -> int | None:
    """The newest version's number, without its texts (what a new signature records)."""
    if has_request_context() and "letter_version" in g:
        return g.letter_version.number if g.letter_version else None
    return db.session.execute(select(func.max(LetterVersion.number))).scalar_one_or_none()


def signed_under(moment: datetime | ColumnElement[datetime]) -> ColumnElement[int | None]:
    """The version someone who signed at `moment` read, as SQL: the newest published by then, or, for
    a signing made before any was published (they read the files, which the first signature then
    published), the first. None only while nothing is published (see publish_first)."""
    newest = select(func.max(LetterVersion.number)).where(LetterVersion.published_at <= moment)
    first = select(func.min(LetterVersion.number))
    return func.coalesce(newest.scalar_subquery(), first.scalar_subquery())


def number_at(moment: datetime) -> int | None:
    """The number of the version someone who signed at `moment` read (signed_under)."""
    return db.session.execute(select(signed_under(moment))).scalar_one_or_none()


# The reason recorded with a version 1 that the first signature published; shown translated (reason()).
FIRST_PUBLISHED = "First published, with the first signature."


def reason(version: LetterVersion) -> str:
    """Why the version was published, as readers see it, in their language when the site wrote it."""
    if version.reason == FIRST_PUBLISHED:
        return gettext("First published, with the first signature.")
    return version.reason


def publish_first() -> None:
    """Before a signature is added: if no version has been published yet, publish the letter's files
    as version 1, in the signature's transaction. Readers before the first signature read the files;
    the first signature is the moment that text becomes what people signed, so it is recorded then
    and every signature records a version. One statement, INSERT ... ON CONFLICT DO NOTHING on the
    version's number (its primary key): two signings settled at once, by two workers or a worker and
    `flask letter publish`, make one version 1 (the second waits for the first's transaction, then
    adds nothing). Costs one query once a version exists."""
    if current_number() is not None:
        return
    texts = {language: content_path("letter", language).read_text(encoding="utf-8") for language in SUPPORTED}
    table = cast("Table", LetterVersion.__table__)
    dialect_insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    first = dialect_insert(table).values(
        number=1,
        published_at=now_utc(),
        reason=FIRST_PUBLISHED,
        text_en=texts["en"],
        text_zh=texts["zh"],
        sha256_en=sha256(texts["en"]),
        sha256_zh=sha256(texts["zh"]),
    )
    db.session.execute(first.on_conflict_do_nothing())
    if has_request_context():
        g.pop("letter_version", None)


def all_versions() -> Sequence[LetterVersion]:
    return db.session.execute(select(LetterVersion).order_by(LetterVersion.number.desc())).scalars().all()


def letter_text(language: str) -> str:
    """The letter as readers see it: the newest version, or the file before any was published."""
    version = current()
    if version is not None:
        return version.text(language)
    return content_path("letter", language).read_text(encoding="utf-8")


def publish(reason: str, email_signers: bool = False) -> LetterVersion:
    """Record the letter's files as the next version. Refused when nothing changed, and when only one
    language changed: the two texts are one letter, and a reader in either must see the same."""
    if not reason.strip():
        raise NothingToPublish("Give a reason: it is shown with the version.")
    texts = {language: content_path("letter", language).read_text(encoding="utf-8") for language in SUPPORTED}
    before = current()
    if before is not None:
        changed = {language for language in SUPPORTED if texts[language] != before.text(language)}
        if not changed:
            raise NothingToPublish(f"The letter's files are the same as version {before.number}.")
        if changed != set(SUPPORTED):
            missing = ", ".join(sorted(set(SUPPORTED) - changed))
            raise NothingToPublish(f"Only some languages changed; change the text in {missing} too, or undo the edit.")
    version = LetterVersion(
        number=(before.number + 1) if before else 1,
        published_at=now_utc(),
        reason=reason.strip()[:500],
        text_en=texts["en"],
        text_zh=texts["zh"],
        sha256_en=sha256(texts["en"]),
        sha256_zh=sha256(texts["zh"]),
    )
    db.session.add(version)
    db.session.flush()
    if email_signers and before is not None:  # the first version has no earlier signers to tell
        mailings.request("version", version_number=version.number)
    if has_request_context():
        g.letter_version = version
    return version


def changes(version: LetterVersion, before: LetterVersion | None, language: str) -> list[tuple[str, str]]:
    """What changed from `before`, line by line: ("+", line), ("-", line) or (" ", line) for context."""
    if before is None:
        return []
    lines = difflib.unified_diff(
        before.text(language).splitlines(), version.text(language).splitlines(), lineterm="", n=1
    )
    return [(line[0], line[1:]) for line in list(lines)[2:] if not line.startswith("@@")]


def signed_per_version() -> dict[int | None, int]:
    """How many signatures that count were made under each version (None: before the first)."""
    rows = db.session.execute(
        select(Signature.letter_version, func.count()).where(Signature.counted).group_by(Signature.letter_version)
    )
    return {number: n for number, n in rows.all()}  # noqa: C416 (rows are Row objects)


# --- Telling the signers of earlier versions ------------------------------------------------------


def _earlier_signers(version_number: int, after_id: int, limit: int) -> Sequence[Signature]:
    """Signatures that count, made under an earlier version (or before the first), in id order."""
    earlier = or_(Signature.letter_version.is_(None), Signature.letter_version < version_number)
    return (
        db.session.execute(
            select(Signature)
            .where(Signature.counted, earlier, Signature.email.is_not(None), Signature.id > after_id)
            .order_by(Signature.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def _to_tell(mailing: Mailing, after_id: int, limit: int) -> Sequence[Signature]:
    return _earlier_signers(mailing.version_number or 0, after_id, limit)


def notice_email(version: LetterVersion, signature: Signature, changed: list[tuple[str, str]]) -> dict[str, str]:
    """The email telling one signer what changed (`changed`, in their language) and how to withdraw:
    its subject and body. The caller has switched to the signer's language (in_their_languages)."""
    language = signature.language
    body = render_email(
        "emails/letter_changed.txt",
        version=version,
        changed=changed,
        versions_url=site_link("public.letter_versions", lang=language),
        manage_url=site_link("public.manage", token=make_token(signature, MANAGE), lang=language),
    )
    subject = gettext("The open letter you signed has changed (version %(n)s)", n=version.number)
    return {"subject": subject[:300], "body": body}


def write_notices(emails: Sequence[OutgoingEmail]) -> dict[int, str | None]:
    """The mail worker's writer of notices that the letter changed ("letter_changed" rows), each in
    its signer's language. What changed is worked out once per version and language in a batch, not
    once per signer. A signer whose signature no longer counts is not told."""
    numbers = {email.version_notice or 0 for email in emails}
    wanted = numbers | {number - 1 for number in numbers}
    found = db.session.execute(select(LetterVersion).where(LetterVersion.number.in_(wanted))).scalars()
    published = {version.number: version for version in found}
    changed: dict[tuple[int, str], list[tuple[str, str]]] = {}

    def write(email: OutgoingEmail, signature: Signature) -> bool:
        version = published[email.version_notice or 0]
        if not signature.counted:
            return False
        key = (version.number, signature.language)
        if key not in changed:
            changed[key] = changes(version, published.get(version.number - 1), signature.language)
        written = notice_email(version, signature, changed[key])
        email.subject, email.body = written["subject"], written["body"]
        return True

    return write_each(emails, write)


# Registered with the mail worker when the app is made (create_app).
CHANGE_NOTICES = mailings.MailingKind("version", recipients=_to_tell, write=write_notices)
