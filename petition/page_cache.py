"""A one-second memory of pages that are the same for every reader (the letter with its counts),
so a surge of readers costs one render a second per worker instead of one per reader."""
import time

from flask import current_app, session

_pages = {}  # key -> (expires_at, body)


def cached_page(key, render):
    """The page for `key`, rendered at most once per PAGE_CACHE_SECONDS. Counts on it are at most
    that old; open pages refresh them from /api/counts."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if seconds <= 0 or "_flashes" in session:  # a pending message is for this reader only
        return render()
    now = time.monotonic()
    hit = _pages.get(key)
    if hit and hit[0] > now:
        return hit[1]
    body = render()
    _pages[key] = (now + seconds, body)
    return body
