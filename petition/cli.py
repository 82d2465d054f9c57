"""Command-line tasks: each feature's command group, registered on the app
(`flask --app wsgi --help` lists them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from petition.delivery.cli import delivery_cli
from petition.inbound.cli import fetch_command, receive_command
from petition.letter.cli import letter_cli
from petition.mail.cli import mail_cli
from petition.organisers.cli import organisers_cli
from petition.privacy.cli import privacy_cli
from petition.reach.cli import mirror_cli, share_cli
from petition.signatories.cli import counts_cli, groups_cli
from petition.signatures.cli import signatures_cli

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    for group in (
        organisers_cli,
        signatures_cli,
        mail_cli,
        privacy_cli,
        counts_cli,
        groups_cli,
        share_cli,
        letter_cli,
        delivery_cli,
        mirror_cli,
    ):
        app.cli.add_command(group)
    mail_cli.add_command(receive_command)
    mail_cli.add_command(fetch_command)
