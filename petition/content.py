"""The letter and the background article: Markdown files rendered once per change."""

from __future__ import annotations

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


def content_path(name: str, language: str) -> Path:
    """petition/content/letter.en.md, falling back to English when a translation is missing."""
    directory = Path(current_app.config["CONTENT_DIR"])
    path = directory / f"{name}.{language}.md"
    return path if path.exists() else directory / f"{name}.en.md"


def rendered(name: str, language: str = "en") -> Markup:
    return render_file(content_path(name, language))
