"""The organisers' CSV export, streamed row by row."""
import csv
import io

from sqlalchemy import func, select

from .extensions import db
from .models import Signature, review_status

HEADER = ("id", "name", "affiliation", "email", "group", "listed", "signed_at", "status", "confirmed_at", "language")
BYTE_ORDER_MARK = "\ufeff"  # so spreadsheet programs read the file as UTF-8 (Chinese names)
# A cell starting with one of these is read as a formula by spreadsheet programs (OWASP: CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def neutralise(cell):
    cell = str(cell)
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def _timestamp(value):
    return value.isoformat(timespec="seconds") if value else ""


def csv_rows(everything=False):
    """The header, then one list of cells per signature, oldest first, fetched in batches.

    By default only the signatures that count (confirmed, not hidden, not flagged); with
    everything=True, all of them, the status column saying which is which.
    """
    yield list(HEADER)
    statement = select(
        Signature.id, Signature.name, Signature.affiliation, Signature.email, Signature.group, Signature.listed,
        Signature.signed_at, Signature.status, Signature.hidden, Signature.suspected_bot, Signature.confirmed_at,
        Signature.language,
    ).order_by(Signature.id)
    if not everything:
        statement = statement.where(Signature.visible.is_(True))
    result = db.session.execute(statement.execution_options(yield_per=1000))
    for id_, name, affiliation, email, group, listed, signed_at, status, hidden, bot, confirmed_at, language in result:
        yield [
            id_, neutralise(name), neutralise(affiliation), neutralise(email), group, "yes" if listed else "no",
            _timestamp(signed_at), review_status(status, hidden, bot), _timestamp(confirmed_at), language,
        ]


def csv_chunks(everything=False):
    """The CSV text in chunks of a few hundred rows, starting with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BYTE_ORDER_MARK)
    for n, row in enumerate(csv_rows(everything), start=1):
        writer.writerow(row)
        if n % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def signature_total(everything=False):
    statement = select(func.count()).select_from(Signature)
    if not everything:
        statement = statement.where(Signature.visible.is_(True))
    return db.session.execute(statement).scalar_one()
