"""`flask delivery pdf` and `flask delivery check FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from petition.db.transactions import reading_only
from petition.delivery import jobs as delivery_jobs
from petition.delivery.checking import check_copy
from petition.extensions import db

delivery_cli = AppGroup("delivery", help="The copy of the letter and its signatories to deliver.")


@delivery_cli.command("pdf")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
def delivery_pdf(file: str, language: str) -> None:
    """Make the delivery copy (A4 PDF: the letter, the counts, the listed signatories) and write it to
    FILE. It is kept for the dashboard too; if nothing changed since the last copy, that one is used."""
    job, _ = delivery_jobs.request_copy(language, delivery_jobs.COMMAND_LINE)
    db.session.commit()
    job = delivery_jobs.make_now(job.id)
    if job.state != "done":
        raise click.ClickException(f"The copy could not be made: {job.error}")
    kept = delivery_jobs.file_pdf(job.file_id) if job.file_id else None
    if kept is None:
        raise click.ClickException("The copy was made but is no longer kept; run the command again.")
    made, pdf = kept
    Path(file).write_bytes(pdf)
    click.echo(f"Wrote {file}: {made.names} names, {made.pages} pages; list SHA-256 {made.list_sha256}.")


@delivery_cli.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def check_delivery(context: click.Context, file: Path) -> None:
    """Recompute the fingerprints of the list and of the letter from the database and say whether those
    printed in FILE (a delivery copy) match; exits with 1 when one does not."""
    reading_only()
    try:
        checked = check_copy(file)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.commit()
    for finding in checked.findings:
        click.echo(finding)
    context.exit(0 if checked.matches else 1)
