"""`flask share images` and `flask mirror build DIR`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from petition.extensions import db

share_cli = AppGroup("share", help="The pictures link previews and home screens show.")


mirror_cli = AppGroup("mirror", help="A static copy of the public site, for anyone to publish.")


@share_cli.command("images")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Another folder than static/share/.")
def draw_share_images(out: Path | None) -> None:
    """Redraw static/share/ (link-preview cards per language, icons) after the letter's title changes."""
    from petition.reach.share_images import draw_all

    try:
        written = draw_all(out)
    except (ImportError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("Wrote " + ", ".join(str(path) for path in written) + ".")


@mirror_cli.command("build")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def build_mirror(folder: Path) -> None:
    """Make or update a static copy of the public site in FOLDER: both languages, the list, the feeds;
    only the files that changed are written (see docs/reach.md)."""
    from petition.reach.mirror import MirrorError, build, describe

    try:
        report = build(folder)
    except MirrorError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.rollback()  # the command's boundary: the build only read
    click.echo(describe(report, folder))
