"""`flask counts ...` and `flask groups ...`: the running counts and the groups of signatories."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from petition.db.commands import commits
from petition.signatories import counts, groups

if TYPE_CHECKING:
    from petition.signatories.counts import Counts

counts_cli = AppGroup("counts", help="The running counts of signatures.")


groups_cli = AppGroup("groups", help="The groups of signatories.")


@counts_cli.command("reconcile")
@commits
def reconcile_counts() -> None:
    """Check the running counts against the signatures table and correct them (run it on a schedule)."""
    before, after = counts.reconcile()
    status = "were right" if before == after else "were corrected"
    click.echo(
        f"Counts {status}: {describe_counts(after)}"
        + ("" if before == after else f" (were {describe_counts(before)})")
        + "."
    )


def describe_counts(figures: Counts) -> str:
    return ", ".join([*(f"{group} {n}" for group, n in figures.by_group.items()), f"total {figures.total}"])


@groups_cli.command("add")
@click.argument("key")
@click.option("--label-en", required=True, help='One member, in English: "Hong Kong scholar".')
@click.option("--label-zh", required=True, help='One member, in Chinese: "香港学者".')
@click.option("--plural-en", required=True, help='The group, in English: "Hong Kong scholars".')
@click.option("--plural-zh", required=True, help='The group, in Chinese: "香港学者".')
@commits
def add_group(key: str, label_en: str, label_zh: str, plural_en: str, plural_zh: str) -> None:
    """Add a group of signatories after the others: signers can choose it, and it is counted and listed."""
    try:
        group = groups.add_group(
            key.strip().lower(), labels={"en": label_en, "zh": label_zh}, plurals={"en": plural_en, "zh": plural_zh}
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except IntegrityError:
        raise click.ClickException(f"A group with the key {key!r} already exists.") from None
    click.echo(f"Added the group {group.key} ({group.plural('en')} / {group.plural('zh')}).")
