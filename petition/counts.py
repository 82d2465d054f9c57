"""How many have signed (confirmed, not hidden), per group, and how many of those asked not to be named."""
from dataclasses import dataclass

from sqlalchemy import func, select

from .extensions import db
from .groups import CHINESE, INTERNATIONAL
from .models import Signature


@dataclass(frozen=True)
class Counts:
    international: int = 0
    chinese: int = 0
    unlisted_international: int = 0
    unlisted_chinese: int = 0

    @property
    def total(self):
        return self.international + self.chinese

    def for_group(self, group):
        return {INTERNATIONAL: self.international, CHINESE: self.chinese}[group]

    def unlisted_for_group(self, group):
        return {INTERNATIONAL: self.unlisted_international, CHINESE: self.unlisted_chinese}[group]

    def as_json(self):
        return {
            "international": self.international,
            "chinese": self.chinese,
            "total": self.total,
            "unlisted": {INTERNATIONAL: self.unlisted_international, CHINESE: self.unlisted_chinese},
        }


def current_counts():
    rows = db.session.execute(
        select(Signature.group, Signature.listed, func.count())
        .where(Signature.visible.is_(True))
        .group_by(Signature.group, Signature.listed)
    )
    tally = {}
    for group, listed, n in rows:
        tally[group] = tally.get(group, 0) + n
        if not listed:
            tally[f"unlisted_{group}"] = n
    return Counts(**tally)
