"""The delivery copy: a cover (the addressees, the date of delivery, the initiators, a contact), the
letter as published, the counts, and the listed signatories under a heading per group sorted by name
(Chinese names in pinyin order), with a line per group for those counted but not named. Every page
carries its number and the fingerprints (SHA-256) of the list and of the letter's text, so a
recipient can check that two copies are the same. As an A4 PDF with its fonts embedded (typst, see
typeset.py), or as HTML to print from a browser.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from pypinyin import lazy_pinyin
from sqlalchemy import select

from petition.db.types import now_utc
from petition.extensions import db
from petition.letter import content, versions
from petition.signatories.counts import Counts, current_counts
from petition.signatories.groups import Group, all_groups
from petition.signatures import listing
from petition.signatures.models import Signature


@dataclass
class GroupList:
    group: Group
    names: list[tuple[str, str]] = field(default_factory=list)  # (name, affiliation), in order
    unlisted: int = 0
    not_listed: int = 0  # asked to be named, but the organisers have not listed the name (LIST_REVIEW)


@dataclass
class DeliveryCopy:
    language: str
    title: Markup | None
    letter: Markup
    counts: Counts
    groups: list[GroupList]
    list_fingerprint: str
    letter_fingerprint: str
    made_at: datetime
    letter_source: str = ""  # the Markdown, as published
    version: int | None = None
    version_date: datetime | None = None
    signed_per_version: dict[int | None, int] = field(default_factory=dict)

    def listed_names(self) -> int:
        return sum(len(entry.names) for entry in self.groups)

    def versions_signed(self) -> list[tuple[int, int]]:
        """(version, signatures made under it), newest first."""
        return sorted(((v, n) for v, n in self.signed_per_version.items() if v is not None), reverse=True)


def name_order(name: str) -> str:
    """Chinese names by their pinyin (王小明 between Wang and Warren), others as written."""
    return " ".join(lazy_pinyin(name)).casefold()


def listed_signatories() -> Iterator[tuple[str, str, str]]:
    """(group, name, affiliation) of everyone on the public list, read in batches."""
    statement = (
        select(Signature.group, Signature.name, Signature.affiliation)
        .where(Signature.listed_publicly)
        .execution_options(yield_per=5000)
    )
    yield from db.session.execute(statement)  # plain tuples: nothing else of a row is kept


def fingerprint(groups: list[GroupList]) -> str:
    """SHA-256 of the list exactly as printed: group, name, affiliation per line, then the unnamed."""
    digest = hashlib.sha256()
    for entry in groups:
        for name, affiliation in entry.names:
            digest.update(f"{entry.group.key}\t{name}\t{affiliation}\n".encode())
        digest.update(f"{entry.group.key}\tunlisted\t{entry.unlisted}\n".encode())
        if entry.not_listed:
            digest.update(f"{entry.group.key}\tnot listed\t{entry.not_listed}\n".encode())
    return digest.hexdigest()


def delivery_copy(language: str) -> DeliveryCopy:
    counts = current_counts()
    awaiting = listing.awaiting_per_group()
    groups = {
        group.key: GroupList(group, unlisted=counts.unlisted_of(group.key), not_listed=awaiting.get(group.key, 0))
        for group in all_groups()
    }
    for key, name, affiliation in listed_signatories():
        groups[key].names.append((name, affiliation))
    for entry in groups.values():
        entry.names.sort(key=lambda pair: (name_order(pair[0]), pair[0], pair[1]))
    ordered = list(groups.values())
    text = versions.letter_text(language)
    title, letter = content.split_title(content.markdown(text))
    version = versions.current()
    return DeliveryCopy(
        language=language,
        title=title,
        letter=letter,
        counts=counts,
        groups=ordered,
        list_fingerprint=fingerprint(ordered),
        letter_fingerprint=versions.sha256(text),
        letter_source=text,
        version=version.number if version else None,
        version_date=version.published_at if version else None,
        signed_per_version=versions.signed_per_version(),
        made_at=now_utc(),
    )
