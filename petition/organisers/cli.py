"""`flask organisers ...`: creating and managing organiser accounts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from petition.db.commands import commits
from petition.organisers import accounts
from petition.organisers.models import ROLES

if TYPE_CHECKING:
    from petition.organisers.models import Organiser

organisers_cli = AppGroup("organisers", help="Manage organiser accounts.")


def read_new_password() -> str:
    """Prompt twice on a terminal; read two lines from standard input when scripted."""
    stdin = sys.stdin
    if stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    first, second = stdin.readline().rstrip("\r\n"), stdin.readline().rstrip("\r\n")
    if first != second:
        raise click.ClickException("The two passwords do not match.")
    return first


def with_new_password(account_change: Callable[[str, str], Organiser], email: str) -> Organiser:
    """Read a new password and hand it to `account_change`; its refusal is a clear message."""
    password = read_new_password()
    try:
        return account_change(email, password)
    except ValueError as error:  # AccountError, or an address email-validator rejects
        raise click.ClickException(str(error)) from None


ROLE_CHOICE = click.Choice(ROLES)


@organisers_cli.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, default="admin", show_default=True, help="What the account may do.")
@commits
def create_organiser(email: str, role: str) -> None:
    """Create an organiser account; the password is asked for twice."""
    organiser = with_new_password(lambda address, password: accounts.create_organiser(address, password, role), email)
    click.echo(f"Created organiser {organiser.email} ({organiser.role}).")


@organisers_cli.command("list")
def list_organisers() -> None:
    """Every account: address, role, two-factor sign-in, disabled or not."""
    for organiser in accounts.all_organisers():
        second = "2FA on" if organiser.has_second_factor else "2FA off"
        state = f"disabled {organiser.disabled_at:%Y-%m-%d}" if organiser.disabled_at else "active"
        click.echo(f"{organiser.email}\t{organiser.role}\t{second}\t{state}")


def _account_command(change: Callable[[], Organiser]) -> Organiser:
    try:
        return change()
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None


@organisers_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@commits
def set_role(email: str, role: str) -> None:
    """Change what an account may do."""
    organiser = _account_command(lambda: accounts.set_role(email, role))
    click.echo(f"{organiser.email} is now {organiser.role}.")


@organisers_cli.command("disable")
@click.argument("email")
@commits
def disable_organiser(email: str) -> None:
    """Stop an account from logging in and end its sessions (it stays in the audit log)."""
    organiser = _account_command(lambda: accounts.disable(email))
    click.echo(f"{organiser.email} is disabled; its sessions have ended.")


@organisers_cli.command("reset-2fa")
@click.argument("email")
@commits
def reset_second_factor(email: str) -> None:
    """Forget an account's authenticator app and recovery codes; it enrols again at its next login."""
    organiser = _account_command(lambda: accounts.reset_second_factor(email))
    click.echo(f"Two-factor sign-in reset for {organiser.email}; it sets it up again at its next login.")


@organisers_cli.command("set-password")
@click.argument("email")
@commits
def set_password(email: str) -> None:
    """Give an organiser a new password (asked for twice); every login of the account ends."""
    organiser = with_new_password(accounts.change_password, email)
    click.echo(f"New password set for {organiser.email}; every session of the account has ended.")
