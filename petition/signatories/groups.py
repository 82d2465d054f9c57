"""The groups of signatories, read from the signatory_groups table: their keys, order and labels
in each language. Everything that shows or checks a group asks here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app, g, has_request_context
from sqlalchemy import select

from petition.extensions import db
from petition.signatures.models import COUNTER_SHARDS, SignatoryGroup, SignatureCount
from petition.web.locales import DEFAULT, SUPPORTED, current_language
from petition.web.page_cache import forget, remembered


@dataclass(frozen=True)
class Group:
    key: str
    position: int
    labels: dict  # language -> "International scholar"
    plurals: dict  # language -> "International scholars"

    def label(self, language: str | None = None) -> str:
        return self.labels[_language(language)]

    def plural(self, language: str | None = None) -> str:
        return self.plurals[_language(language)]


def _language(language: str | None) -> str:
    language = language or current_language()
    return language if language in SUPPORTED else DEFAULT


def _group_from(row: SignatoryGroup) -> Group:
    return Group(
        row.key,
        row.position,
        {lang: getattr(row, f"label_{lang}") for lang in SUPPORTED},
        {lang: getattr(row, f"plural_{lang}") for lang in SUPPORTED},
    )


def _read_groups() -> tuple[Group, ...]:
    return tuple(
        _group_from(row)
        for row in db.session.execute(select(SignatoryGroup).order_by(SignatoryGroup.position)).scalars()
    )


def all_groups() -> tuple[Group, ...]:
    """Every group, in order; read once per request, and by each process at most every
    GROUPS_CACHE_SECONDS: groups are added perhaps once in a letter's life (`flask groups add`), and
    every form asks for them, so a new group shows up within that time."""
    if has_request_context() and "signatory_groups" in g:
        return g.signatory_groups
    # Kept per app (the tests build several in one process).
    config = current_app.config
    groups = remembered(("groups", id(config)), _read_groups, config.get("GROUPS_CACHE_SECONDS", 0))
    if has_request_context():
        g.signatory_groups = groups
    return groups


def forget_groups() -> None:
    """After adding a group: this process reads them afresh."""
    forget("groups")
    if has_request_context():
        g.pop("signatory_groups", None)


def group_keys() -> list[str]:
    return [group.key for group in all_groups()]


def by_key(key: str) -> Group | None:
    return next((group for group in all_groups() if group.key == key), None)


def label_of(key: str, language: str | None = None) -> str:
    group = by_key(key)
    return group.label(language) if group else key


KEY_PATTERN = re.compile(r"^[a-z0-9_-]{1,20}$")
LABEL_MAX = 100


def add_group(key: str, *, labels: Mapping[str, str], plurals: Mapping[str, str], position: int | None = None) -> Group:
    """A new group, with its counter rows (the counts' triggers add to rows that exist). The caller
    commits. Raises ValueError for a key that is not a short plain word or a missing/overlong label;
    the database refuses a key that exists (IntegrityError)."""
    if not KEY_PATTERN.match(key):
        raise ValueError(f"{key!r} is not a group key: use up to 20 lower-case letters, digits, - or _.")
    for text in [*(labels.get(lang, "") for lang in SUPPORTED), *(plurals.get(lang, "") for lang in SUPPORTED)]:
        if not text.strip() or len(text) > LABEL_MAX:
            raise ValueError(f"Every label needs 1 to {LABEL_MAX} characters, in each language.")
    if position is None:
        position = max((group.position for group in all_groups()), default=0) + 1
    row = SignatoryGroup(
        key=key,
        position=position,
        **{f"label_{lang}": labels[lang] for lang in SUPPORTED},
        **{f"plural_{lang}": plurals[lang] for lang in SUPPORTED},
    )
    db.session.add(row)
    db.session.add_all(
        SignatureCount(group=key, listed=listed, shard=shard, n=0)
        for listed in (True, False)
        for shard in range(COUNTER_SHARDS)
    )
    db.session.flush()
    forget_groups()
    return _group_from(row)
