"""`flask signatures export FILE`: the organisers' CSV export from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from petition.db.transactions import reading_only
from petition.signatures import exports

signatures_cli = AppGroup("signatures", help="Work with the signatures.")


@signatures_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--all", "everything", is_flag=True, help="Include pending, hidden and flagged signatures.")
def export_signatures(file: str, everything: bool) -> None:
    """Write the confirmed signatures (or --all) to FILE as CSV (UTF-8 with a byte-order mark)."""
    reading_only()  # signing goes on while the file is written
    total = exports.signature_total(everything)
    with (
        open(file, "w", encoding="utf-8", newline="") as out,
        click.progressbar(
            length=total + 1,  # + the header line
            label="Exporting signatures",
            file=sys.stderr,
        ) as bar,
    ):
        for chunk in exports.csv_chunks(everything):
            out.write(chunk)
            bar.update(chunk.count("\n") if chunk else 0)
    click.echo(f"Wrote {total} signatures to {file}.")
