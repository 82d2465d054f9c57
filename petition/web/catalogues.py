"""The compiled translation catalogues (.mo) that Flask-Babel reads. They are built from the .po
files, never committed; a deployment that installed with pip alone has none, and would serve the
Chinese pages with an English interface without a word. So the app compiles any that are missing
or older than their .po when it starts, and refuses to start if it cannot write them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from petition.config import ConfigurationError

if TYPE_CHECKING:
    from flask import Flask


def translation_directories(app: Flask) -> list[Path]:
    configured = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations")
    return [Path(app.root_path) / directory for directory in configured.split(";")]


def stale_catalogues(app: Flask) -> list[tuple[Path, Path]]:
    """(.po, .mo) pairs whose .mo is missing or older than the .po."""
    pairs = []
    for directory in translation_directories(app):
        for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                pairs.append((po, mo))
    return pairs


def compile_catalogue(po: Path, mo: Path) -> None:
    with open(po, "rb") as source:
        catalogue = read_po(source)
    partial = mo.with_name(mo.name + ".partial")
    with open(partial, "wb") as target:
        write_mo(target, catalogue)
    partial.replace(mo)  # a worker starting alongside never reads half a file


def ensure_compiled(app: Flask) -> None:
    for po, mo in stale_catalogues(app):
        try:
            compile_catalogue(po, mo)
        except OSError as error:
            raise ConfigurationError(
                f"The translation catalogue {mo} is missing or out of date and cannot be written ({error}). "
                f"Compile it before starting: pybabel compile -d {po.parents[2]}"
            ) from None
