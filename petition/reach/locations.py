"""Keeping the letter reachable where its address is blocked: every address it can be read at (SITE_URL,
ALTERNATE_URLS, ONION_URL, and copies at MIRROR_URLS), shown on the letter's page, beside the WeChat
code, on the share cards (share_images.py) and in every email (templates/emails/_addresses.txt); the
Onion-Location header that offers Tor Browser the onion service; and whether a page is being
rendered for a static copy (mirror.py), which the templates ask through mirror_copy().

See docs/reach.md for what each of these protects against, and what not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, has_request_context, request
from markupsafe import Markup, escape

from petition.extensions import limiter
from petition.web.links import link_on, request_base
from petition.web.locales import current_language, local_date

if TYPE_CHECKING:
    from flask import Flask, Response

# The WSGI environ key under which mirror.py marks the requests it renders. A client cannot set it:
# a server puts what a client sends under HTTP_* keys.
MIRROR_ENVIRON = "petition.reach.mirror"


@dataclass(frozen=True)
class MirrorCopy:
    """What a page rendered for a static copy knows about that copy."""

    made_at: datetime  # in UTC


@dataclass(frozen=True)
class Address:
    kind: str  # "site" (SITE_URL), "alternate", "onion", or "mirror" (a static copy)
    base: str

    def letter(self, language: str | None = None) -> str:
        """The letter in `language` (the one being written in, if None) at this address. A copy names
        its file: object storage answers a folder's address with an error, not with its index.html."""
        language = language or current_language()
        if self.kind == "mirror":
            return f"{self.base.rstrip('/')}/{language}/index.html"
        return link_on(self.base, "public.index", lang=language)

    def sign(self, language: str) -> str:
        """The signing form in `language` at this live address."""
        return link_on(self.base, "public.sign", lang=language)

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
    """The addresses besides the one this page is being read at (on a copy: all of them)."""
    everything = addresses()
    if mirror_copy() is not None:
        return everything
    here = request_base()
    return [address for address in everything if not (address.is_live and address.base == here)]


def addresses_besides(base: str | None = None) -> list[Address]:
    """Every address but the live one `base` (SITE_URL if None): what an email, whose links are on
    `base`, lists as plain text, and what the share card lists (besides nothing: all of them)."""
    here = base or current_app.config["SITE_URL"]
    return [address for address in addresses() if not (address.is_live and address.base == here)]


def mirror_copy() -> MirrorCopy | None:
    """The copy this request renders a page for, if it does (set only by mirror.py)."""
    if not has_request_context():
        return None
    made = request.environ.get(MIRROR_ENVIRON)
    return made if isinstance(made, MirrorCopy) else None


def made_time(copy: MirrorCopy) -> Markup:
    """When the copy was made, in the page's language, to the minute (UTC). mirror.py finds it by its
    class: a page whose only change is this time is not written again."""
    moment = copy.made_at
    words = f"{local_date(moment, 'long')} {moment:%H:%M} UTC"
    return Markup('<time class="mirror-made" datetime="{}">{}</time>').format(
        moment.strftime("%Y-%m-%dT%H:%MZ"), escape(words)
    )


def building_mirror() -> bool:
    return mirror_copy() is not None


# A copy walks the whole list in one go: its requests are the site's own, not a visitor's.
limiter.request_filter(building_mirror)


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
    app.jinja_env.globals["addresses_besides"] = addresses_besides
    app.jinja_env.globals["made_time"] = made_time
    app.jinja_env.globals["mirror_copy"] = mirror_copy
