"""The organisers' CSV export: contents, encoding, formula neutralisation, streaming."""
import csv
import io

import pytest

from conftest import confirmed_signature, sign_and_confirm
from petition.exports import HEADER, csv_chunks, neutralise
from petition.signing import sign

HYPERLINK = '=HYPERLINK("http://example.com","x")'


def read_csv(data):
    assert data.startswith("\ufeff".encode()), "the file starts with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("cell, safe", [
    (HYPERLINK, "'" + HYPERLINK),
    ("+1 555", "'+1 555"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTab", "'\tTab"),
    ("\rReturn", "'\rReturn"),
    ("Ada = Lovelace", "Ada = Lovelace"),
    ("王小明", "王小明"),
])
def test_cells_that_a_spreadsheet_would_run_are_neutralised(cell, safe):
    assert neutralise(cell) == safe


def test_export_has_every_signature_with_its_email_and_neutralised_cells(organiser_client, app):
    with app.app_context():
        confirmed_signature(name=HYPERLINK, affiliation="@evil", email="attacker@example.org", group="international")
        confirmed_signature(name="王小明", affiliation="中山大学", email="wang@example.edu.cn", group="chinese", listed=False)
        sign(name="Pending Person", affiliation="U", email="pending@example.org", group="chinese")
    response = organiser_client.get("/organisers/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="signatures-')
    rows = read_csv(response.get_data())
    assert rows[0] == list(HEADER)
    assert rows[1][1:6] == ["'" + HYPERLINK, "'@evil", "attacker@example.org", "international", "yes"]
    assert rows[2][1:6] == ["王小明", "中山大学", "wang@example.edu.cn", "chinese", "no"]
    assert rows[1][6].endswith("+00:00") and "T" in rows[1][6]
    assert rows[1][7] == "confirmed" and rows[1][8].endswith("+00:00")
    assert len(rows) == 3, "pending signatures are left out by default"
    everything = read_csv(organiser_client.get("/organisers/export.csv?scope=all").get_data())
    assert [(r[1], r[7]) for r in everything[1:]] == [("'" + HYPERLINK, "confirmed"), ("王小明", "confirmed"),
                                                      ("Pending Person", "pending")]


def test_export_streams_in_chunks_not_one_string(ctx):
    for i in range(1200):
        sign(name=f"P{i}", affiliation="U", email=f"p{i}@example.org", group="chinese")
    chunks = list(csv_chunks(everything=True))
    assert len(chunks) >= 3
    assert sum(c.count("\r\n") for c in chunks) == 1201


def test_signing_through_the_form_then_exporting_round_trips_chinese_text(organiser_client):
    sign_and_confirm(organiser_client, name="李华", affiliation="香港中文大学", email="li@example.hk", group="chinese")
    rows = read_csv(organiser_client.get("/organisers/export.csv").get_data())
    assert rows[1][1:4] == ["李华", "香港中文大学", "li@example.hk"]
