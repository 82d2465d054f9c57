"""Absolute links to the site's pages, built from the addresses the organisers configured: SITE_URL
(emails are sent outside any request), and the other bases the same site answers at (ALTERNATE_URLS,
ONION_URL), never from a Host header as a visitor wrote it.

A request whose Host is one of those other bases' hosts gets links on that base (request_base), so a
reader who found the letter there stays there; canonical links and the sitemap always name SITE_URL
(site_link, site_origin). An email a signer caused at one of those bases links to that base: the
request records it (recorded_base) for the mail worker, which has no request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

DEFAULT_PORTS = {"http": 80, "https": 443}


def link_on(base: str, endpoint: str, **values: Any) -> str:
    """The absolute address of `endpoint` on `base` (https://host[/path]), whatever the request."""
    site = urlsplit(base)
    adapter = current_app.url_map.bind(site.netloc, script_name=site.path or "/", url_scheme=site.scheme)
    return adapter.build(endpoint, values, force_external=True)


def site_link(endpoint: str, **values: Any) -> str:
    """On SITE_URL: for emails, canonical addresses and the sitemap."""
    return link_on(current_app.config["SITE_URL"], endpoint, **values)


def origin_of(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def site_origin() -> str:
    """https://host of SITE_URL: every canonical address a page carries starts with it, never with
    the Host header a visitor sent."""
    return origin_of(current_app.config["SITE_URL"])


def host_key(scheme: str, netloc: str) -> str:
    """A host as a comparable key: lower case, no trailing dot, the scheme's default port left out."""
    host, colon, port = netloc.lower().rpartition(":")
    if not (colon and port.isdigit()):  # no port ([::1] has colons of its own)
        host, port = netloc.lower(), ""
    if port and int(port) == DEFAULT_PORTS.get(scheme):
        port = ""
    return host.rstrip(".") + (f":{port}" if port else "")


def other_bases() -> list[str]:
    """The bases besides SITE_URL that serve this same site: ALTERNATE_URLS, then ONION_URL."""
    config = current_app.config
    return [*config.get("ALTERNATE_URLS", []), *([config["ONION_URL"]] if config.get("ONION_URL") else [])]


def base_for_host(host: str | None, scheme: str = "https") -> str:
    """The base whose links a request for `host` gets: one of other_bases() whose host it is, else
    SITE_URL. Reusable outside a request (an email to someone who signed at an alternate address)."""
    site = current_app.config["SITE_URL"]
    if not host:
        return site
    for base in other_bases():
        parts = urlsplit(base)
        # The request's port counts with the request's scheme; the base's with its own.
        if host_key(parts.scheme, parts.netloc) == host_key(scheme, host):
            return base
    return site


def recorded_base(base: str | None) -> str | None:
    """`base` if it is one of other_bases() (a base a request was served on, recorded for an email
    written later), else None: SITE_URL needs no record, and a base no longer configured is not used."""
    return base if base and base in other_bases() else None


def request_base() -> str:
    """The base for absolute links built during this request (SITE_URL outside one)."""
    if not has_request_context() or not other_bases():  # the usual case: one address
        return current_app.config["SITE_URL"]
    return base_for_host(request.host, request.scheme)


def here_link(endpoint: str, **values: Any) -> str:
    """`endpoint`'s absolute address on this request's base (see request_base)."""
    return link_on(request_base(), endpoint, **values)


def here_origin() -> str:
    return origin_of(request_base())
