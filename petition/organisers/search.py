"""Finding any signature from the dashboard: by the words of its name and affiliation, by its exact
email address (for the roles that may see addresses), by review status, group, listing review and
signing date; newest first, a page at a time.

- Latin (and any other spaced) words match from their start, case aside ("lov" finds Lovelace;
  "velace" finds nothing): a full-text index answers that at a million signatures in milliseconds,
  where a substring search reads every row (migration 0022).
- Chinese is written without spaces, so a word with Chinese (CJK) characters matches anywhere in a
  name or an affiliation ("伟" finds 陈伟, "大学" and "山大" find 中山大学). The index also holds each
  CJK character and each pair of adjacent ones as words (migration 0028; on PostgreSQL an index of
  their own): the search looks up the word's character (one) or its pairs, and checks the rows found
  for the whole word.
- Every word typed must match, in the name or the affiliation.
- An address is looked up by its keyed hash (addresses.email_hash), the column that stays when the
  address itself is erased, and would stay if addresses were encrypted: only the exact address (as
  the site stores it: trimmed, lower case) matches. A role that may not see addresses never searches
  them: the address is ignored, with a message.
- Pages are keyset pages: "older than #n" and "newer than #n", never OFFSET, so the last page costs
  what the first does.
- How many match is counted exactly up to COUNT_BOUND; past it the page says "more than 10,000".

Anything in the query string that cannot be read is left out, and the page says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, column, func, literal, literal_column, or_, select, table

from petition.extensions import db
from petition.organisers.dashboard import REVIEW_FILTERS
from petition.privacy.addresses import email_hash
from petition.signatories.groups import group_keys
from petition.signatures.lifecycle import ListingReview
from petition.signatures.models import Signature
from petition.web.text import EmailNotValidError, normalise_email, tidy

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString
    from sqlalchemy import ColumnClause, ColumnElement, Select

QUERY_MAX = 200
WORDS_MAX = 8
COUNT_BOUND = 10_000
CURSOR_MAX = 2**62

# Letters and digits in any script; anything else separates words (as both indexes read them).
_WORD = re.compile(r"[^\W_]+")
# The characters written without spaces between words, as migration 0028 indexes them one by one:
# kana, Han (with 々〆〇), Hangul syllables.
_CJK = re.compile(
    "[\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U000323af]+"
)
# SQLite: the FTS5 table (its rowid is the signature's id). PostgreSQL: the indexed expressions,
# written exactly as migrations 0022 and 0028 index them, or the indexes are not used.
_FTS = table("signature_search", column("rowid", Integer))
_VECTOR: ColumnClause[Any] = literal_column(
    "to_tsvector('simple'::regconfig, signatures.name || ' ' || signatures.affiliation)"
)
_CJK_VECTOR: ColumnClause[Any] = literal_column("signature_search_cjk(signatures.name, signatures.affiliation)")
_SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")


def search_words(text: str) -> list[str]:
    """The words a search looks for, lower case, at most WORDS_MAX."""
    return [word.lower() for word in _WORD.findall(text)][:WORDS_MAX]


def cjk_terms(word: str) -> list[str]:
    """The index's words that every name or affiliation containing `word` has, if `word` has CJK
    characters: of each run of them, the character if it stands alone, else each adjacent pair.
    Nothing for a word without CJK (it is looked up by its start)."""
    terms = []
    for run in _CJK.findall(word):
        terms += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return list(dict.fromkeys(terms))


def _contains(word: str, postgresql: bool) -> ColumnElement[bool]:
    """The name or the affiliation holds the word, case aside (a check of the rows the index found)."""
    position = func.strpos if postgresql else func.instr
    name, affiliation = Signature.__table__.c.name, Signature.__table__.c.affiliation
    return or_(position(func.lower(name), word) > 0, position(func.lower(affiliation), word) > 0)


@dataclass(frozen=True)
class Filters:
    """What the dashboard lists: a review tab and the filters on top of it."""

    review: str = "all"
    q: str = ""  # as typed (tidied), for the form and the links
    words: tuple[str, ...] = ()
    address: str | None = None  # an exact address, normalised, for the roles that see addresses
    group: str | None = None
    listing: str | None = None
    signed_from: date | None = None
    signed_until: date | None = None  # inclusive: the whole day

    @property
    def narrowed(self) -> bool:
        """Anything besides the tab: then the tab's own count is not the number that match."""
        return bool(self.words or self.address or self.group or self.listing or self.signed_from or self.signed_until)

    def args(self) -> dict[str, str]:
        """The query string that asks for these filters (no page): for links and the form."""
        values = {
            "review": "" if self.review == "all" else self.review,
            "q": self.q,
            "group": self.group or "",
            "listing": self.listing or "",
            "from": self.signed_from.isoformat() if self.signed_from else "",
            "until": self.signed_until.isoformat() if self.signed_until else "",
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Request:
    filters: Filters
    before: int | None = None
    after: int | None = None
    problems: list[LazyString] = field(default_factory=list)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _cursor(value: str) -> int | None:
    try:
        cursor = int(value)
    except ValueError:
        return None
    return cursor if 0 < cursor < CURSOR_MAX else None


def read_request(args: Mapping[str, str], may_see_emails: bool) -> Request:
    """The filters and page a dashboard address asks for, as typed by anyone: whatever cannot be
    read is left out, with a sentence saying so."""
    problems: list[LazyString] = []
    filters = Filters()
    review = args.get("review", "all") or "all"
    if review in REVIEW_FILTERS:
        filters = replace(filters, review=review)
    else:
        problems.append(_l("There is no such list of signatures: showing all of them."))
    q = tidy(args.get("q", ""))[:QUERY_MAX]
    if "@" in q:
        if not may_see_emails:
            problems.append(_l("Your role does not show email addresses, so it cannot search by them."))
        else:
            try:
                filters = replace(filters, q=q, address=normalise_email(q))
            except EmailNotValidError:
                problems.append(_l("To search by email address, enter the whole address, such as ada@example.org."))
    elif q:
        words = search_words(q)
        if words:
            filters = replace(filters, q=q, words=tuple(words))
        else:
            problems.append(_l("Search for words of a name or an affiliation: letters or digits."))
    group = args.get("group", "")
    if group in group_keys():
        filters = replace(filters, group=group)
    elif group:
        problems.append(_l("There is no such group: showing every group."))
    listing = args.get("listing", "")
    if listing in {review.value for review in ListingReview}:
        filters = replace(filters, listing=listing)
    elif listing:
        problems.append(_l("There is no such listing review: showing every one."))
    days = {}
    for name in ("from", "until"):
        value = args.get(name, "")
        days[name] = _date(value) if value else None
        if value and days[name] is None:
            problems.append(_l("“%(value)s” is not a date such as 2026-11-29: left out.", value=value[:40]))
    filters = replace(filters, signed_from=days["from"], signed_until=days["until"])
    if filters.signed_from and filters.signed_until and filters.signed_from > filters.signed_until:
        problems.append(_l("The last day comes before the first: the dates are left out."))
        filters = replace(filters, signed_from=None, signed_until=None)
    before, after = (_cursor(args.get(name, "") or "") for name in ("before", "after"))
    if any(args.get(name) for name in ("before", "after")) and not (before or after):
        problems.append(_l("That page of the list no longer exists: showing the newest signatures."))
    return Request(filters, before=before, after=None if before else after, problems=problems)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _matching(filters: Filters, *columns: Any) -> tuple[Select[Any], ColumnElement[int]]:
    """The statement for what matches, and the column its pages are walked by (the signature's id)."""
    conditions: list[ColumnElement[bool]] = list(REVIEW_FILTERS[filters.review])
    statement = select(*columns).select_from(Signature)
    key: ColumnElement[int] = Signature.__table__.c.id
    if filters.address:
        conditions.append(Signature.email_hash == email_hash(filters.address))
    if filters.group:
        conditions.append(Signature.group == filters.group)
    if filters.listing:
        conditions.append(Signature.listing_review == filters.listing)
    if filters.signed_from:
        conditions.append(Signature.signed_at >= _midnight(filters.signed_from))
    if filters.signed_until:
        conditions.append(Signature.signed_at < _midnight(filters.signed_until + timedelta(days=1)))
    if filters.words:
        # Words with CJK characters: their characters or pairs exactly (and the rows checked for the
        # whole word); other words: from their start.
        postgresql = db.session.get_bind().dialect.name == "postgresql"
        prefixes = [word for word in filters.words if not cjk_terms(word)]
        terms = [term for word in filters.words for term in cjk_terms(word)]
        conditions += [_contains(word, postgresql) for word in filters.words if cjk_terms(word)]
        if postgresql:
            if prefixes:
                query = " & ".join(f"'{word}':*" for word in prefixes)
                conditions.append(_VECTOR.op("@@")(func.to_tsquery(_SIMPLE, query)))
            if terms:
                query = " & ".join(f"'{term}'" for term in terms)
                conditions.append(_CJK_VECTOR.op("@@")(func.to_tsquery(_SIMPLE, query)))
        else:
            # The full-text table leads: it gives the matching ids newest first, and stops at a page.
            statement = statement.join(_FTS, _FTS.c.rowid == Signature.id)
            key = _FTS.c.rowid
            query = " AND ".join([f'"{word}"*' for word in prefixes] + [f'cjk : "{term}"' for term in terms])
            conditions.append(literal_column("signature_search").op("MATCH")(query))
    return statement.where(*conditions), key


@dataclass(frozen=True)
class Page:
    signatures: Sequence[Signature]
    newer: int | None  # the cursor of the page before (after=), if there is one
    older: int | None  # the cursor of the page after (before=), if there is one
    total: int  # how many match, up to COUNT_BOUND
    more_than: bool  # more than COUNT_BOUND match

    @property
    def first_page(self) -> bool:
        return self.newer is None


def _exists(statement: Select[Any]) -> bool:
    return db.session.execute(statement.limit(1)).first() is not None


def find(request: Request, tab_counts: Mapping[str, int], limit: int | None = None) -> Page:
    """One page of what matches, newest first, and how many match."""
    limit = limit or current_app.config["DASHBOARD_LATEST"]
    filters = request.filters
    statement, key = _matching(filters, Signature)
    if request.after is not None:
        rows = list(db.session.execute(statement.where(key > request.after).order_by(key).limit(limit + 1)).scalars())
        newer_too, rows = len(rows) > limit, rows[:limit][::-1]
        older_too = bool(rows) and _exists(statement.where(key < rows[-1].id))
    else:
        newest_first = statement.order_by(key.desc()).limit(limit + 1)
        if request.before is not None:
            newest_first = newest_first.where(key < request.before)
        rows = list(db.session.execute(newest_first).scalars())
        older_too, rows = len(rows) > limit, rows[:limit]
        newer_too = bool(rows) and request.before is not None and _exists(statement.where(key > rows[0].id))
    if not rows and (request.before is not None or request.after is not None):
        return find(Request(filters), tab_counts, limit)  # the page is gone (signatures deleted): the first
    newer = rows[0].id if newer_too else None
    older = rows[-1].id if older_too else None
    if newer is None and older is None:
        total, more_than = len(rows), False  # everything that matches is on this page
    elif not filters.narrowed:
        total, more_than = tab_counts[filters.review], False
    else:
        total, more_than = count_matching(filters)
    return Page(rows, newer, older, total, more_than)


def count_matching(filters: Filters) -> tuple[int, bool]:
    """How many signatures match, counted up to COUNT_BOUND; and whether more than that match."""
    statement, _ = _matching(filters, literal(1))
    counted = db.session.execute(
        select(func.count()).select_from(statement.limit(COUNT_BOUND + 1).subquery())
    ).scalar_one()
    return min(counted, COUNT_BOUND), counted > COUNT_BOUND
