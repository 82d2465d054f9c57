"""The organisers' CSV export, streamed row by row."""
import csv
import io

from sqlalchemy import func, select

from .extensions import db
from .models import Signature

HEADER = ("id", "name", "affiliation", "email", "group", "listed", "signed_at")
BYTE_ORDER_MARK = "\ufeff"  # so spreadsheet programs read the file as UTF-8 (Chinese names)
# A cell starting with one of these is read as a formula by spreadsheet programs (OWASP: CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def neutralise(cell):
    cell = str(cell)
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def csv_rows():
    """The header, then one list of cells per signature, oldest first, fetched in batches."""
    yield list(HEADER)
    result = db.session.execute(
        select(
            Signature.id, Signature.name, Signature.affiliation, Signature.email,
            Signature.group, Signature.listed, Signature.signed_at,
        ).order_by(Signature.id).execution_options(yield_per=1000)
    )
    for id_, name, affiliation, email, group, listed, signed_at in result:
        yield [
            id_, neutralise(name), neutralise(affiliation), neutralise(email), group,
            "yes" if listed else "no", signed_at.isoformat(timespec="seconds"),
        ]


def csv_chunks():
    """The CSV text in chunks of a few hundred rows, starting with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BYTE_ORDER_MARK)
    for n, row in enumerate(csv_rows(), start=1):
        writer.writerow(row)
        if n % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def signature_total():
    return db.session.execute(select(func.count()).select_from(Signature)).scalar_one()
