"""Which requests came through the site's own reverse proxy, and so may say who the client is.

X-Forwarded-For, -Proto and -Host are written by whoever sends the request. They are believed only
from the proxy's own addresses (TRUSTED_PROXY_ADDRESSES); a client that reached the app another
way keeps the address it connected from, so no per-address limit can be escaped by writing a header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

from petition.config import ConfigurationError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    """'127.0.0.1', '::1', '10.0.0.0/8' as networks; a mistyped one stops the site with a message."""
    found = []
    for address in addresses:
        try:
            found.append(ipaddress.ip_network(address.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(
                f"TRUSTED_PROXY_ADDRESSES: {address!r} is not an address or network such as 127.0.0.1 or 10.0.0.0/8."
            ) from None
    return tuple(found)


class FromTrustedProxies:
    """WSGI middleware: ProxyFix for requests from the proxy's addresses, nothing for the others."""

    def __init__(self, app: WSGIApplication, hops: int, proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.proxied = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.proxies = proxies

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.is_proxy(environ.get("REMOTE_ADDR", "")):
            return self.proxied(environ, start_response)
        return self.app(environ, start_response)

    def is_proxy(self, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:  # a Unix socket, or nothing: not an address a proxy was named by
            return False
        return any(peer in network for network in self.proxies)
