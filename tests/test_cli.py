"""The flask commands, run as an organiser would run them."""

import csv

from sqlalchemy import select

from petition.extensions import db
from petition.organisers.accounts import authenticate
from petition.organisers.models import Organiser
from tests.support import confirmed_signature


def test_create_organiser_reads_the_password_twice_from_standard_input(runner, app):
    result = runner.invoke(
        args=["organisers", "create", "Boss@Example.org"], input="a long passphrase\na long passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created organiser boss@example.org" in result.output
    with app.app_context():
        assert authenticate("boss@example.org", "a long passphrase") is not None
        stored = db.session.execute(select(Organiser)).scalar_one()
        assert (
            stored.password_hash.startswith(("scrypt:", "argon2")) and "a long passphrase" not in stored.password_hash
        )


def test_create_organiser_refuses_mismatched_short_or_repeated_passwords(runner, app):
    mismatch = runner.invoke(
        args=["organisers", "create", "a@example.org"], input="a long passphrase\nanother one here\n"
    )
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output
    short = runner.invoke(args=["organisers", "create", "a@example.org"], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    bad_address = runner.invoke(
        args=["organisers", "create", "not-an-address"], input="a long passphrase\na long passphrase\n"
    )
    assert bad_address.exit_code != 0
    runner.invoke(args=["organisers", "create", "a@example.org"], input="a long passphrase\na long passphrase\n")
    again = runner.invoke(
        args=["organisers", "create", "A@example.org"], input="a long passphrase\na long passphrase\n"
    )
    assert again.exit_code != 0 and "already exists" in again.output
    with app.app_context():
        assert len(db.session.execute(select(Organiser)).scalars().all()) == 1


def test_export_command_writes_the_same_csv_as_the_web_export(runner, app, tmp_path):
    with app.app_context():
        confirmed_signature(name="=cmd|' /C calc'!A0", affiliation="Uni", email="x@example.org", group="international")
        confirmed_signature(name="王小明", affiliation="中山大学", email="w@example.cn", group="chinese")
    out = tmp_path / "signatures.csv"
    result = runner.invoke(args=["signatures", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 signatures" in result.output
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:4] == ["id", "name", "affiliation", "email"]
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[2][1:4] == ["王小明", "中山大学", "w@example.cn"]
