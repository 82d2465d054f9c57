"""The organisers' CSV export: contents, encoding, formula neutralisation, streaming."""

import csv
import io
import re

import pytest

from petition.extensions import db
from petition.signatures.exports import HEADER, ROWS_PER_CHUNK, csv_chunks
from petition.signatures.models import Signature
from petition.signatures.signing import sign
from tests.support import confirmed_signature, sign_and_confirm

HYPERLINK = '=HYPERLINK("http://example.com","x")'


def read_csv(data):
    assert data.startswith("\ufeff".encode()), "the file starts with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize(
    "cell, safe",
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Ada = Lovelace", "Ada = Lovelace"),
        ("王小明", "王小明"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(ctx, cell, safe):
    # Stored directly: the signing form itself refuses tabs and returns, but the export must not trust that.
    db.session.add(Signature(name=cell, affiliation=cell, email="cell@example.org", group="chinese"))
    db.session.commit()
    rows = read_csv("".join(csv_chunks(everything=True)).encode())
    assert rows[1][1] == rows[1][2] == safe


FORMULA_STARTS = ("=", "+", "-", "@")
HOSTILE_NAMES = [
    "a;=1+1;b",
    "a,=1+1,b",
    "a\t=1+1",
    "x; =SUM(1)",
    "x, @SUM(A1)",
    "x;-2+3",
    " =1+1",
    "a;+1;b,=2",
    'q";=1+1;"',
    'a","=1+1',
    'a;"=1+1',
    'a;"@x"',
    'Smith, Jean-Luc; =HYPERLINK("http://e.example")',
]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_export_is_inert_whatever_separator_the_spreadsheet_chooses(ctx, separator):
    # LibreOffice opened with ";" ran "a;=1+1;b": quotes protect a field only where they open it.
    for i, name in enumerate(HOSTILE_NAMES):
        db.session.add(Signature(name=name, affiliation=name, email=f"n{i}@example.org", group="chinese"))
    db.session.commit()
    text = "".join(csv_chunks(everything=True)).removeprefix("\ufeff")
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
        for cell in row:
            # Some programs trim spaces, and a cell may open with the quote of a field it cuts into.
            assert not cell.strip().lstrip('"').startswith(FORMULA_STARTS), (separator, cell)


def test_neutralising_changes_nothing_a_comma_separated_reader_sees_but_the_quote_marks(ctx):
    db.session.add(Signature(name="a;=1+1;b", affiliation="Uni, Dept", email="n@example.org", group="chinese"))
    db.session.commit()
    rows = read_csv("".join(csv_chunks(everything=True)).encode())
    assert rows[1][1:3] == ["a;'=1+1;b", "Uni, Dept"]


def test_export_has_every_signature_with_its_email_and_neutralised_cells(organiser_client, app):
    with app.app_context():
        confirmed_signature(name=HYPERLINK, affiliation="@evil", email="attacker@example.org", group="international")
        confirmed_signature(
            name="王小明", affiliation="中山大学", email="wang@example.edu.cn", group="chinese", listed=False
        )
        sign(name="Pending Person", affiliation="U", email="pending@example.org", group="chinese")
        db.session.commit()
    response = organiser_client.get("/organisers/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="signatures-')
    rows = read_csv(response.get_data())
    assert rows[0] == list(HEADER)
    assert rows[1][1:6] == ["'" + HYPERLINK, "'@evil", "attacker@example.org", "international", "yes"]
    assert rows[2][1:6] == ["王小明", "中山大学", "wang@example.edu.cn", "chinese", "no"]
    # A spreadsheet reads these as dates: 'YYYY-MM-DD HH:MM:SS', in UTC as the column names say.
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[1][6]) and HEADER[6].endswith("_utc")
    assert rows[1][7] == "confirmed" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[1][8])
    assert len(rows) == 3, "pending signatures are left out by default"
    everything = read_csv(organiser_client.get("/organisers/export.csv?scope=all").get_data())
    assert [(r[1], r[7]) for r in everything[1:]] == [
        ("'" + HYPERLINK, "confirmed"),
        ("王小明", "confirmed"),
        ("Pending Person", "pending"),
    ]


def test_export_streams_in_chunks_not_one_string(ctx):
    rows = 2 * ROWS_PER_CHUNK + 1
    db.session.add_all(
        Signature(name=f"P{i}", affiliation="U", email=f"p{i}@example.org", group="chinese") for i in range(rows)
    )
    db.session.commit()
    chunks = list(csv_chunks(everything=True))
    assert len(chunks) == 1 + 3  # the header, then three batches
    assert sum(c.count("\r\n") for c in chunks) == rows + 1
    assert len(read_csv("".join(chunks).encode())) == rows + 1


def test_signing_through_the_form_then_exporting_round_trips_chinese_text(organiser_client):
    sign_and_confirm(organiser_client, name="李华", affiliation="香港中文大学", email="li@example.hk", group="chinese")
    rows = read_csv(organiser_client.get("/organisers/export.csv").get_data())
    assert rows[1][1:4] == ["李华", "香港中文大学", "li@example.hk"]
