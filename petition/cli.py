"""Command-line tasks: `flask --app wsgi organisers create EMAIL`, `flask --app wsgi signatures export FILE`."""
import sys

import click
from flask.cli import AppGroup

from . import accounts, exports

organisers_cli = AppGroup("organisers", help="Manage organiser accounts.")
signatures_cli = AppGroup("signatures", help="Work with the signatures.")


def read_new_password():
    """Prompt twice on a terminal; read two lines from standard input when scripted."""
    stdin = sys.stdin
    if stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    first, second = stdin.readline().rstrip("\r\n"), stdin.readline().rstrip("\r\n")
    if first != second:
        raise click.ClickException("The two passwords do not match.")
    return first


@organisers_cli.command("create")
@click.argument("email")
def create_organiser(email):
    """Create an organiser account; the password is asked for twice."""
    password = read_new_password()
    try:
        organiser = accounts.create_organiser(email, password)
    except ValueError as error:  # AccountError, or an address email-validator rejects
        raise click.ClickException(str(error)) from None
    click.echo(f"Created organiser {organiser.email}.")


@signatures_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def export_signatures(file):
    """Write every signature to FILE as CSV (UTF-8 with a byte-order mark)."""
    total = exports.signature_total()
    with open(file, "w", encoding="utf-8", newline="") as out, \
            click.progressbar(length=total + 1,  # + the header line
                                label="Exporting signatures", file=sys.stderr) as bar:
        for chunk in exports.csv_chunks():
            out.write(chunk)
            bar.update(chunk.count("\n") if chunk else 0)
    click.echo(f"Wrote {total} signatures to {file}.")


def register(app):
    app.cli.add_command(organisers_cli)
    app.cli.add_command(signatures_cli)
