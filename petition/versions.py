"""The text people signed. Each published text of the letter is a version: a number, a date, a reason,
and the text in both languages with its SHA-256. The site shows the newest version, not the Markdown
file: an edited file is shown only once `flask letter publish` records it. Before the first version
is published (a new site), the file is shown as it is.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence

from flask import g, has_request_context
from sqlalchemy import func, select

from .content import content_path
from .extensions import db
from .locales import SUPPORTED
from .models import LetterVersion, Signature, now_utc


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


def all_versions() -> Sequence[LetterVersion]:
    return db.session.execute(select(LetterVersion).order_by(LetterVersion.number.desc())).scalars().all()


def letter_text(language: str) -> str:
    """The letter as readers see it: the newest version, or the file before any was published."""
    version = current()
    if version is not None:
        return version.text(language)
    return content_path("letter", language).read_text(encoding="utf-8")


def publish(reason: str) -> LetterVersion:
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
