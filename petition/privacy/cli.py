"""`flask privacy purge` (what the site no longer needs) and `flask privacy reseal` (after a key change)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from petition.db.commands import commits
from petition.privacy import retention as privacy
from petition.privacy import sealing

privacy_cli = AppGroup("privacy", help="Delete what the site no longer needs to keep.")


@privacy_cli.command("purge")
@click.option("--older-than", "older_than", default="90d", show_default=True, help="An age such as 90d, 12h or 2w.")
@commits
def purge(older_than: str) -> None:
    """Delete IP hashes, unconfirmed signatures, old emails and login records older than the age; once
    the letter has been closed ERASE_EMAILS_AFTER_DAYS, erase the addresses of signers who did not
    ask for news."""
    try:
        age = privacy.parse_age(older_than)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    report = privacy.purge(age)
    click.echo(
        f"Cleared {report.ip_hashes_cleared} IP hashes; deleted {report.unconfirmed_deleted} unconfirmed "
        f"signatures, {report.emails_deleted} emails and {report.login_attempts_deleted} login records; "
        f"erased {report.addresses_erased} email addresses."
    )


@privacy_cli.command("reseal")
@commits
def reseal_addresses() -> None:
    """After a new ADDRESS_KEY (the old one in ADDRESS_KEY_FALLBACKS): seal every address and email
    text again under the new key. Then the fallback can be removed."""
    click.echo(f"Sealed {sealing.reseal()} values again under the current ADDRESS_KEY.")
