"""Absolute links to the site's pages, built from SITE_URL (emails are sent outside any request)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def site_link(endpoint: str, **values: Any) -> str:
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(site.netloc, script_name=site.path or "/", url_scheme=site.scheme)
    return adapter.build(endpoint, values, force_external=True)


def site_origin() -> str:
    """https://host of SITE_URL: every absolute address a page carries starts with it, never with
    the Host header a visitor sent."""
    site = urlsplit(current_app.config["SITE_URL"])
    return f"{site.scheme}://{site.netloc}"
