"""The letter and the background article: Markdown files rendered once per change."""

from __future__ import annotations

import re
from pathlib import Path

from flask import current_app
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML off: a content file cannot inject markup or scripts into the page.
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
    ["replacements", "smartquotes", "table"]
)
_cache: dict[Path, tuple[tuple[int, int], Markup]] = {}  # path -> ((mtime_ns, size), rendered)


def render_file(path: Path) -> Markup:
    """Rendered HTML of a Markdown file, re-rendered only when the file changes."""
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached and cached[0] == key:
        return cached[1]
    rendered = Markup(_markdown.render(path.read_text(encoding="utf-8")))
    _cache[path] = (key, rendered)
    return rendered


def markdown(text: str) -> Markup:
    """Markdown an organiser wrote (an update), rendered with raw HTML off, as the letter is."""
    return Markup(_markdown.render(text))


def content_path(name: str, language: str) -> Path:
    """petition/content/letter.en.md, falling back to English when a translation is missing."""
    directory = Path(current_app.config["CONTENT_DIR"])
    path = directory / f"{name}.{language}.md"
    return path if path.exists() else directory / f"{name}.en.md"


def rendered(name: str, language: str = "en") -> Markup:
    return render_file(content_path(name, language))


_FIRST_HEADING = re.compile(r"^\s*<h1>(.*?)</h1>\s*", re.S)


def title_and_body(name: str, language: str = "en") -> tuple[Markup | None, Markup]:
    """The page's first heading apart from the rest, so a page can set it above other things (the
    letter's title above its counts on a phone). No heading at the top: (None, everything)."""
    return split_title(rendered(name, language))


def split_title(html: Markup) -> tuple[Markup | None, Markup]:
    """Rendered Markdown's first heading, and the rest."""
    found = _FIRST_HEADING.match(html)
    if not found:
        return None, html
    return Markup(found.group(1)), Markup(html[found.end() :])
