"""`flask delivery pdf` and `flask delivery check FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from petition.db.transactions import reading_only
from petition.delivery import copy, layout
from petition.delivery import jobs as delivery_jobs
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
    try:
        printed = layout.fingerprints_in(file)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    reading_only()
    now = copy.delivery_copy(printed.language)
    same_list = printed.list_sha256 == now.list_fingerprint
    same_letter = printed.letter_sha256 == now.letter_fingerprint
    if same_list:
        click.echo(f"List of signatories: match (SHA-256 {now.list_fingerprint}, the list in the database now).")
    else:
        click.echo(
            f"List of signatories: no match. The copy's SHA-256 is {printed.list_sha256}; the list in the "
            f"database now gives {now.list_fingerprint}: names were added, removed or changed since it was made."
        )
    if same_letter:
        click.echo(f"Letter ({printed.language}): match (SHA-256 {now.letter_fingerprint}).")
    else:
        known = delivery_jobs.version_with_text(printed.language, printed.letter_sha256)
        was = f"the text of version {known}" if known else "a text recorded as no version"
        click.echo(
            f"Letter ({printed.language}): no match. The copy has {was} (SHA-256 {printed.letter_sha256}); "
            f"the letter now is {now.letter_fingerprint}."
        )
    made = delivery_jobs.file_made_as(file.read_bytes())
    if made is not None:
        click.echo(f"{file} is, byte for byte, the copy the site made on {made.made_at:%Y-%m-%d %H:%M} UTC.")
    db.session.commit()
    context.exit(0 if same_list and same_letter else 1)
