"""How many have signed (confirmed, not hidden), per group, and how many of those asked not to be named.

Reading the counts sums a few dozen counter rows that database triggers keep up to date, so it
costs the same with a thousand signatures as with a million.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text, update

from petition.extensions import db
from petition.signatories.groups import group_keys
from petition.signatures.models import Signature, SignatureCount

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


@dataclass(frozen=True)
class Counts:
    """Signatures that count, per group key, and how many of them asked not to be named."""

    by_group: dict = field(default_factory=dict)
    unlisted: dict = field(default_factory=dict)

    def of(self, group: str) -> int:
        return self.by_group.get(group, 0)

    def unlisted_of(self, group: str) -> int:
        return self.unlisted.get(group, 0)

    @property
    def total(self) -> int:
        return sum(self.by_group.values())

    @property
    def any_unlisted(self) -> bool:
        return any(self.unlisted.values())

    def share_of(self, group: str) -> tuple[float, float]:
        """The group's part of the split bar: where it starts and how wide it is, in percent of the
        total, the groups in their order. (0, 0) before anyone has signed."""
        total = self.total
        if not total:
            return 0.0, 0.0
        before = 0
        for key, n in self.by_group.items():
            if key == group:
                return round(100 * before / total, 3), round(100 * n / total, 3)
            before += n
        return 100.0, 0.0

    def as_json(self) -> dict[str, int | dict[str, int]]:
        """Each group's count under its key, the total, and the unlisted per group."""
        return {**self.by_group, "total": self.total, "unlisted": dict(self.unlisted)}


def _counts_from(rows: Iterable[Any]) -> Counts:  # rows of (group, listed, n)
    by_group = dict.fromkeys(group_keys(), 0)
    unlisted = dict.fromkeys(group_keys(), 0)
    for group, listed, n in rows:
        by_group[group] = by_group.get(group, 0) + n
        if not listed:
            unlisted[group] = unlisted.get(group, 0) + n
    return Counts(by_group, unlisted)


def current_counts() -> Counts:
    return _counts_from(
        db.session.execute(
            select(SignatureCount.group, SignatureCount.listed, func.sum(SignatureCount.n)).group_by(
                SignatureCount.group, SignatureCount.listed
            )
        )
    )


def counted_from_signatures() -> Counts:
    """The same counts, the slow way: straight from the signatures table."""
    return _counts_from(
        db.session.execute(
            select(Signature.group, Signature.listed, func.count())
            .where(Signature.counted)
            .group_by(Signature.group, Signature.listed)
        )
    )


def reconcile() -> tuple[Counts, Counts]:
    """Set the counters to what the signatures table says; return (before, after).

    Writers are held off while it counts (PostgreSQL: a share lock on signatures; SQLite: outside
    a web request every transaction begins IMMEDIATE, see db/transactions.py), so nothing can change
    between the count and the correction. The caller commits (the CLI command), which lets the lock go.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE signatures IN SHARE MODE"))
    before = current_counts()
    truth = db.session.execute(
        select(Signature.group, Signature.listed, func.count())
        .where(Signature.counted)
        .group_by(Signature.group, Signature.listed)
    ).all()
    db.session.execute(text("UPDATE signature_counts SET n = 0"))
    for group, listed, n in truth:
        db.session.execute(
            update(SignatureCount)
            .where(SignatureCount.group == group, SignatureCount.listed == listed, SignatureCount.shard == 0)
            .values(n=n)
        )
    db.session.flush()
    return before, _counts_from(truth)
