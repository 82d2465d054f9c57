"""`flask letter publish|close|reopen`: the letter's versions and closing signing by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from petition.db.commands import commits
from petition.letter import closing, versions
from petition.organisers import accounts

if TYPE_CHECKING:
    from petition.organisers.models import Organiser

letter_cli = AppGroup("letter", help="The letter as a whole: closing and reopening signing.")


def _organiser_and_reason(by: str, reason: str) -> Organiser:
    if not reason.strip():
        raise click.BadParameter("say why; it goes into the audit log", param_hint="--reason")
    try:
        return accounts.organiser_by_email(by)
    except accounts.AccountError as error:
        raise click.BadParameter(str(error), param_hint="--by") from None


@letter_cli.command("publish")
@click.option("--reason", required=True, help="What changed and why; shown with the version.")
@click.option(
    "--email-signers", is_flag=True, help="Tell everyone who signed an earlier version, with their link to withdraw."
)
@commits
def publish_letter(reason: str, email_signers: bool) -> None:
    """Publish the letter's Markdown files as a new version: until then an edited file is not shown."""
    try:
        version = versions.publish(reason, email_signers=email_signers)
    except versions.NothingToPublish as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Published version {version.number} (SHA-256 en {version.sha256_en[:16]}, zh {version.sha256_zh[:16]})."
    )


@letter_cli.command("close")
@click.option("--by", required=True, help="The organiser closing it (their address); goes into the audit log.")
@click.option("--reason", required=True, help="Why; goes into the audit log.")
@commits
def close_letter(by: str, reason: str) -> None:
    """Close signing now: the form is replaced by a notice and every page says the letter is closed."""
    closed = closing.close(_organiser_and_reason(by, reason), reason.strip())
    click.echo(f"Signing closed at {closed.isoformat(timespec='seconds')}.")


@letter_cli.command("reopen")
@click.option("--by", required=True, help="The organiser reopening it (their address); goes into the audit log.")
@click.option("--reason", required=True, help="Why; goes into the audit log.")
@commits
def reopen_letter(by: str, reason: str) -> None:
    """Open signing again after `letter close`."""
    try:
        closing.reopen(_organiser_and_reason(by, reason), reason.strip())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo("Signing is open again.")
