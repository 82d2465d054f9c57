"""A short memory in each process: pages that are the same for every reader (the letter with its
counts), so a surge of readers costs one render a second per worker instead of one per reader; and
small facts every request asks for (the groups, whether signing has closed by hand)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request, session

from petition.reach.locations import building_mirror
from petition.web.links import request_base

_memory: dict[tuple[Any, ...], tuple[float, Any]] = {}  # key -> (expires_at, value)
Value = TypeVar("Value")  # whatever is kept: HTML, a dict for JSON, the groups ...
clock = time.monotonic  # what the memory reads the time from (a test can pass its own)


def remembered(key: tuple[Any, ...], compute: Callable[[], Value], seconds: float, fresh: bool = False) -> Value:
    """compute(), worked out at most once per `seconds` for `key` (0: every time); fresh: now, and
    kept for the next ones."""
    if seconds <= 0:
        return compute()
    now = clock()
    hit = _memory.get(key)
    if hit and hit[0] > now and not fresh:
        return hit[1]
    value = compute()
    _memory[key] = (now + seconds, value)
    return value


def forget(kind: str) -> None:
    """Drop everything kept under keys that start with `kind` (after this process changed it)."""
    for key in [key for key in _memory if key[0] == kind]:
        _memory.pop(key, None)


def cached_page(key: tuple[str, ...], render: Callable[[], Value], seconds: float | None = None) -> Value:
    """The page for `key`, rendered at most once per PAGE_CACHE_SECONDS. Counts on it are at most
    that old; open pages refresh them from /api/counts."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"] if seconds is None else seconds
    if has_flashes() or building_mirror():  # a pending message is for this reader only; a copy is not the page
        return render()
    # A page read at an alternate address links within it: one copy per address (links.request_base).
    return remembered(("page", *key, request_base()), render, seconds)


def has_flashes() -> bool:
    # Most readers send no session cookie at all; only open the session when there is one.
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies and "_flashes" in session
