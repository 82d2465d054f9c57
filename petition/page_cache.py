"""A one-second memory of pages that are the same for every reader (the letter with its counts),
so a surge of readers costs one render a second per worker instead of one per reader."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request, session

_pages: dict[tuple[str, ...], tuple[float, Any]] = {}  # key -> (expires_at, body)
Page = TypeVar("Page")  # whatever the render gives: HTML, or a dict for JSON
clock = time.monotonic  # what the cache reads the time from (a test can pass its own)


def cached_page(key: tuple[str, ...], render: Callable[[], Page], seconds: float | None = None) -> Page:
    """The page for `key`, rendered at most once per PAGE_CACHE_SECONDS. Counts on it are at most
    that old; open pages refresh them from /api/counts."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"] if seconds is None else seconds
    if seconds <= 0 or has_flashes():  # a pending message is for this reader only
        return render()
    now = clock()
    hit = _pages.get(key)
    if hit and hit[0] > now:
        return hit[1]
    body = render()
    _pages[key] = (now + seconds, body)
    return body


def has_flashes() -> bool:
    # Most readers send no session cookie at all; only open the session when there is one.
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies and "_flashes" in session
