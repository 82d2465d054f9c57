"""Static files under fingerprinted names (site.3f2a9c01b2de.css), cached by browsers for a year and
never asked for again, compressed with gzip, served by WhiteNoise in front of the app.

When the app starts, each file in static/ is copied to instance/static/ under a name carrying the first
12 hex digits of its SHA-256, with a .gz beside it, and url_for('static', ...) gives that name. A changed
file gets a new name, so a year-long cache never serves a stale stylesheet. The plain names still work
(served by Flask, revalidated each time). In debug mode nothing is fingerprinted: edits show at once.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

if TYPE_CHECKING:
    from wsgiref.headers import Headers

    from flask import Flask

FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)?$")
YEAR = 365 * 24 * 3600
MANIFEST = "static_manifest"  # app.extensions key: plain name -> fingerprinted name


def fingerprinted_name(relative: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:12]
    stem, dot, extension = relative.rpartition(".")
    return f"{stem}.{digest}.{extension}" if dot and "/" not in extension else f"{relative}.{digest}"


def build(source: Path, target: Path) -> dict[str, str]:
    """Copy every file of `source` into `target` under its fingerprinted name, compressed beside it;
    return the manifest. Files already there are left alone, so a start after the first is quick, and
    several processes starting at once write the same bytes (each through its own temporary file)."""
    skip = Compressor(use_brotli=False, quiet=True)  # knows which files are compressed already (png, ico)
    manifest = {}
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(source).as_posix()
        content = path.read_bytes()
        manifest[relative] = fingerprinted_name(relative, content)
        out = target / manifest[relative]
        if out.exists():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        packed = gzip.compress(content, compresslevel=9, mtime=0)
        if skip.should_compress(out.name) and len(packed) < 0.95 * len(content):
            _write_atomically(out.with_name(out.name + ".gz"), packed)
        _write_atomically(out, content)  # last: its presence says the file and its .gz are complete
    return manifest


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def fingerprint_url(endpoint: str, values: dict[str, Any]) -> None:
    """url_defaults: url_for('static', filename='css/site.css') names the fingerprinted file."""
    if endpoint == "static" and "filename" in values:
        values["filename"] = current_app.extensions[MANIFEST].get(values["filename"], values["filename"])


def _never_sniff(headers: Headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def register(app: Flask) -> None:
    if app.debug:
        return
    source, target = Path(app.static_folder or "static"), Path(app.instance_path) / "static"
    app.extensions[MANIFEST] = build(source, target)
    app.url_defaults(fingerprint_url)
    served = WhiteNoise(
        app.wsgi_app,
        root=str(target),
        prefix="static/",
        max_age=YEAR,
        immutable_file_test=lambda path, url: bool(FINGERPRINTED.search(url)),
        add_headers_function=_never_sniff,
    )
    app.wsgi_app = served  # type: ignore[method-assign]
