"""Keeping the letter reachable where its address is blocked: every address it can be read at (SITE_URL,
ALTERNATE_URLS, ONION_URL, and copies at MIRROR_URLS), shown on the letter's page and beside the WeChat
code; and the Onion-Location header that offers Tor Browser the onion service.

See docs/reach.md for what each of these protects against, and what not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app, request

from .links import link_on, request_base

if TYPE_CHECKING:
    from flask import Flask, Response


@dataclass(frozen=True)
class Address:
    kind: str  # "site" (SITE_URL), "alternate", "onion", or "mirror" (a static copy)
    base: str

    def letter(self, language: str) -> str:
        """The letter in `language` at this address. A copy names its file: object storage answers a
        folder's address with an error, not with the folder's index.html."""
        if self.kind == "mirror":
            return f"{self.base.rstrip('/')}/{language}/index.html"
        return link_on(self.base, "public.index", lang=language)

    @property
    def is_live(self) -> bool:
        return self.kind != "mirror"


def addresses() -> list[Address]:
    """Every address of the letter: the site's own first, then its other live ones, then copies."""
    config = current_app.config
    found = [Address("site", config["SITE_URL"])]
    found += [Address("alternate", base) for base in config.get("ALTERNATE_URLS", [])]
    found += [Address("onion", config["ONION_URL"])] if config.get("ONION_URL") else []
    found += [Address("mirror", base) for base in config.get("MIRROR_URLS", [])]
    return found


def other_addresses() -> list[Address]:
    """The addresses besides the one this page is being read at."""
    everything = addresses()
    here = request_base()
    return [address for address in everything if not (address.is_live and address.base == here)]


def onion_location(response: Response) -> Response:
    """Onion-Location on public pages (not private ones, nor data): Tor Browser offers its reader the
    same page on the onion service (ONION_URL)."""
    onion = current_app.config.get("ONION_URL")
    if (
        onion
        and request.blueprint == "public"
        and response.status_code == 200
        and response.mimetype == "text/html"
        and "no-store" not in (response.headers.get("Cache-Control") or "")
        and request_base() != onion
    ):
        response.headers["Onion-Location"] = onion.rstrip("/") + request.path
    return response


def register(app: Flask) -> None:
    app.after_request(onion_location)
    app.jinja_env.globals["addresses"] = addresses
    app.jinja_env.globals["other_addresses"] = other_addresses
