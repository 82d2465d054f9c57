"""Where a `next` parameter may send a visitor: only to a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

# Browsers drop tabs and line breaks from URLs and read a backslash as a slash, so "/\t/evil.example"
# and "/\\evil.example" both leave the site; a line break in a Location header is refused outright.
_UNSAFE = set("\\") | {chr(c) for c in range(0x21)} | {"\x7f"}


def safe_local_path(target: str | None, fallback: str) -> str:
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if any(ch in _UNSAFE for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
