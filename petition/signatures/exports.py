"""The organisers' CSV export, streamed in batches of lines that the database writes (the sealed
addresses opened on the way)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import SQLColumnExpression, String, case, cast, func, literal, or_, select

from petition.db.transactions import reading_only
from petition.extensions import db
from petition.signatures.models import Signature

SQLText = SQLColumnExpression[Any]  # an SQL expression (or a column) that gives text

HEADER = (
    "id",
    "name",
    "affiliation",
    "email",
    "group",
    "listed",
    "signed_at_utc",
    "status",
    "confirmed_at_utc",
    "language",
    "letter_version",
    "listing_review",
)
BYTE_ORDER_MARK = "\ufeff"  # so spreadsheet programs read the file as UTF-8 (Chinese names)
# A cell starting with one of these is read as a formula by spreadsheet programs (OWASP: CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 2000


# A spreadsheet may open the file with ";" or a tab as the separator; a cell then starts after each
# of them, even inside a field: quotes protect a field only where they open it, as they do for ",".
OTHER_SEPARATORS = (";", "\t")


def neutralised(column: SQLText, inner_separators: tuple[str, ...] = OTHER_SEPARATORS) -> SQLText:
    """The column made inert whatever separator a spreadsheet picks: a ' before the text wherever a
    cell could begin with a formula (at the start, or after a separator, a space or quote between).
    Done by the database, so a million rows need no Python per cell."""
    inner: SQLText = column
    for separator in inner_separators:
        for between in ("", " ", '"'):  # a space a program may trim, or a quote it may take as opening the cell
            for trigger in ("=", "+", "-", "@"):
                inner = func.replace(inner, separator + between + trigger, separator + between + "'" + trigger)
    if inner_separators:
        # Almost no name holds a separator: only those few go through the replacements (4x faster export).
        has_separator = or_(*(column.contains(separator, autoescape=True) for separator in inner_separators))
        inner = case((has_separator, inner), else_=column)
    return case((func.substr(func.ltrim(column), 1, 1).in_(FORMULA_TRIGGERS), literal("'")), else_=literal("")) + inner


def utc_timestamp(column: SQLText) -> SQLText:
    """The time in UTC as 'YYYY-MM-DD HH:MM:SS', which Excel, LibreOffice and Google Sheets all read
    as a date and time (ISO's 'T' and '+00:00' keep them from it; the column name says UTC).
    Formatted by the database, much faster than Python."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS")
    # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' text: the first 19 characters are the answer.
    return func.substr(column, 1, 19)


def quoted(text: SQLText) -> SQLText:
    """A CSV field: in double quotes, inner quotes doubled (RFC 4180). Always quoting keeps commas,
    quotes and line breaks in names safe, and lets the database write whole lines."""
    return literal('"') + func.replace(text, '"', '""') + literal('"')


def csv_line(*fields: SQLText) -> SQLText:
    line = fields[0]
    for field in fields[1:]:
        line = line + literal(",") + field
    return line


def csv_lines(everything: bool = False) -> Iterator[Sequence[str]]:
    """One CSV line per signature, oldest first, made by the database and streamed in batches, but
    for the address: it is sealed in the database (sealing.py), so it is opened here and put
    between the columns the database wrote before and after it.

    By default only the signatures that count (confirmed, not hidden, not flagged); with
    everything=True, all of them, the status column saying which is which.
    """
    before = csv_line(
        cast(Signature.id, String),
        quoted(neutralised(Signature.name)),
        quoted(neutralised(Signature.affiliation)),
    )
    after = csv_line(
        Signature.group,
        case((Signature.listed, "yes"), else_="no"),
        utc_timestamp(Signature.signed_at),
        Signature.review_status,
        func.coalesce(utc_timestamp(Signature.confirmed_at), ""),
        Signature.language,
        func.coalesce(cast(Signature.letter_version, String), ""),
        Signature.listing_review,
    )
    statement = select(before, Signature.email, after).order_by(Signature.id)
    if not everything:
        statement = statement.where(Signature.counted)
    connection = db.session.connection().execution_options(stream_results=True, yield_per=ROWS_PER_CHUNK)
    for rows in connection.execute(statement).partitions():
        yield [f"{head},{address_field(address)},{tail}" for head, address, tail in rows]


def address_field(address: str | None) -> str:
    """The address as a CSV field: quoted, and inert in a spreadsheet (a plain address holds no
    separator or quote, so only its first character needs a look); empty once erased."""
    if not address:
        return '""'
    return f'"\'{address}"' if address.lstrip()[:1] in FORMULA_TRIGGERS else f'"{address}"'


def csv_chunks(everything: bool = False) -> Iterator[str]:
    """The CSV text: a byte-order mark and the header, then a chunk per batch of lines. Read without
    the write lock, so signing goes on while a long export streams."""
    reading_only()
    yield BYTE_ORDER_MARK + ",".join(HEADER) + "\r\n"
    for batch in csv_lines(everything):
        yield "\r\n".join(batch) + "\r\n"


def signature_total(everything: bool = False) -> int:
    statement = select(func.count()).select_from(Signature)
    if not everything:
        statement = statement.where(Signature.counted)
    return db.session.execute(statement).scalar_one()
