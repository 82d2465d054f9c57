"""The public list of signatories: confirmed, not hidden, and asked to be listed; walked by keyset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from petition.extensions import db
from petition.signatories import groups
from petition.signatures.models import Signature
from petition.web.text import tidy

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

QUERY_MAX = 100


@dataclass(frozen=True)
class ListFilter:
    group: str | None = None
    query: str = ""

    @classmethod
    def from_args(cls, group: str | None, query: str | None) -> ListFilter:
        """Build a filter from what a visitor typed; anything unknown just means 'no filter'."""
        return cls(group=group if group in groups.group_keys() else None, query=tidy(query)[:QUERY_MAX])


@dataclass(frozen=True)
class SignatoryPage:
    signatories: Sequence[Signature]
    next_cursor: str | None


def parse_cursor(value: str | None) -> int | None:
    """A cursor is the id of the last signature on the previous page; a bad one starts at the top."""
    if value is None:
        return None
    try:
        cursor = int(value)
    except ValueError:
        return None
    return cursor if 0 < cursor < 2**62 else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def public_page(list_filter: ListFilter, after: int | None = None, limit: int = 100) -> SignatoryPage:
    statement = select(Signature).where(Signature.listed_publicly)
    if list_filter.group:
        statement = statement.where(Signature.group == list_filter.group)
    if list_filter.query:
        pattern = f"%{_escape_like(list_filter.query)}%"
        statement = statement.where(
            or_(Signature.name.ilike(pattern, escape="\\"), Signature.affiliation.ilike(pattern, escape="\\"))
        )
    if after is not None:
        statement = statement.where(Signature.id > after)
    # One row more than a page tells whether there is a next page without counting.
    rows = db.session.execute(statement.order_by(Signature.id).limit(limit + 1)).scalars().all()
    page, more = rows[:limit], len(rows) > limit
    return SignatoryPage(page, str(page[-1].id) if more else None)


def page_from_args(args: MultiDict, limit: int) -> tuple[ListFilter, SignatoryPage]:
    """The filter and page a list address asks for (?group=, ?q=, ?cursor=), as typed by anyone."""
    list_filter = ListFilter.from_args(args.get("group"), args.get("q"))
    return list_filter, public_page(list_filter, after=parse_cursor(args.get("cursor")), limit=limit)
