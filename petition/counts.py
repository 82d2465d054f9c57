"""How many have signed (confirmed, not hidden), per group, and how many of those asked not to be named.

Reading the counts sums a few dozen counter rows that database triggers keep up to date, so it
costs the same with a thousand signatures as with a million.
"""

from dataclasses import dataclass

from sqlalchemy import func, select, text

from .extensions import db
from .groups import CHINESE, INTERNATIONAL
from .models import Signature, SignatureCount


@dataclass(frozen=True)
class Counts:
    international: int = 0
    chinese: int = 0
    unlisted_international: int = 0
    unlisted_chinese: int = 0

    @property
    def total(self):
        return self.international + self.chinese

    def as_json(self):
        return {
            "international": self.international,
            "chinese": self.chinese,
            "total": self.total,
            "unlisted": {INTERNATIONAL: self.unlisted_international, CHINESE: self.unlisted_chinese},
        }


def _counts_from(rows):
    tally = {}
    for group, listed, n in rows:
        tally[group] = tally.get(group, 0) + n
        if not listed:
            tally[f"unlisted_{group}"] = n
    return Counts(**tally)


def current_counts():
    return _counts_from(
        db.session.execute(
            select(SignatureCount.group, SignatureCount.listed, func.sum(SignatureCount.n)).group_by(
                SignatureCount.group, SignatureCount.listed
            )
        )
    )


def counted_from_signatures():
    """The same counts, the slow way: straight from the signatures table."""
    return _counts_from(
        db.session.execute(
            select(Signature.group, Signature.listed, func.count())
            .where(Signature.counted)
            .group_by(Signature.group, Signature.listed)
        )
    )


def reconcile():
    """Set the counters to what the signatures table says; return (before, after).

    Writers are held off while it counts (PostgreSQL: a share lock on signatures; SQLite: outside
    a web request every transaction begins IMMEDIATE, see database.py), so nothing can change
    between the count and the correction.
    """
    db.session.rollback()
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
            SignatureCount.__table__.update()
            .where(SignatureCount.group == group, SignatureCount.listed == listed, SignatureCount.shard == 0)
            .values(n=n)
        )
    db.session.commit()
    return before, _counts_from(truth)
