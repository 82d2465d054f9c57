"""The letter and the background article: Markdown files rendered once per change."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

from petition.letter.markdown_cjk import chinese_aware
from petition.web.links import site_origin

# Raw HTML off: a content file cannot inject markup or scripts into the page.
_markdown = chinese_aware(
    MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["replacements", "smartquotes", "table"])
)


def is_on_this_site(source: str) -> bool:
    """An address on this site: a path (/static/...), or an absolute address under SITE_URL's origin."""
    parts = urlsplit(source)
    if not parts.scheme and not parts.netloc and not source.startswith("//") and "\\" not in source:
        return True
    return has_app_context() and source.startswith(site_origin() + "/")


def _image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Images from this site as images; any other as a link to it (its alt text, or its address, as
    the words), so nothing on a page or in a feed is fetched from elsewhere when it is read: no
    tracking pixel, no picture that can change after publishing."""
    token = tokens[idx]
    source = str(token.attrGet("src") or "")
    if is_on_this_site(source):
        return self.image(tokens, idx, options, env)
    words = escapeHtml(self.renderInlineAsText(token.children, options, env) or source)
    if urlsplit(source).scheme.lower() in ("http", "https") or source.startswith("//"):
        return f'<a href="{escapeHtml(source)}">{words}</a>'
    return words  # data: and the like: not an address to send a reader to


_markdown.add_render_rule("image", _image)


def paragraph_per_line(state: StateCore) -> None:
    """A markdown-it rule for organisers' news: each line typed with Enter is a paragraph of its
    own, as people expect of a text box, where Markdown would join the lines into one paragraph.
    Lists, quotes and headings stay as Markdown makes them; a line break inside emphasis or a
    link stays a line break."""
    tokens: list[Token] = []
    source = state.tokens
    i = 0
    while i < len(source):
        opening = source[i]
        if opening.type == "paragraph_open" and not opening.hidden and i + 2 < len(source):
            inline, closing = source[i + 1], source[i + 2]
            lines: list[list[Token]] = [[]]
            depth = 0
            for child in inline.children or []:
                depth += child.nesting
                if child.type == "softbreak" and depth == 0:
                    lines.append([])
                else:
                    lines[-1].append(child)
            for line in filter(None, lines):
                content = "".join(child.content for child in line)
                tokens += [opening.copy(), inline.copy(children=line, content=content), closing.copy()]
            i += 3
            continue
        tokens.append(opening)
        i += 1
    state.tokens = tokens


# Organisers' news: the same dialect, and a paragraph for each line typed.
_news_markdown = chinese_aware(
    MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["replacements", "smartquotes", "table"])
)
_news_markdown.add_render_rule("image", _image)
_news_markdown.core.ruler.push("paragraph_per_line", paragraph_per_line)
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


def parse(text: str) -> list[Token]:
    """Markdown as markdown-it's tokens, parsed as the site renders it (the delivery copy lays them out)."""
    return _markdown.parse(text)


def markdown(text: str) -> Markup:
    """Markdown an organiser wrote (an update), rendered with raw HTML off, as the letter is, and
    images from elsewhere as links (see _image)."""
    return Markup(_markdown.render(text))


def news_markdown(text: str) -> Markup:
    """News an organiser wrote, as the letter's page and the feeds show it: markdown() with each
    line typed with Enter a paragraph (paragraph_per_line), as the email's text has it too."""
    return Markup(_news_markdown.render(text))


def hint(name: str) -> Markup | None:
    """A short content file shown beside a form field (who counts as which group), in the page's
    language, or None when the site has none: organisers word it, not the code."""
    from petition.web.locales import current_language

    path = content_path(name, current_language())
    if not path.exists():
        return None
    html = render_file(path).strip()
    return Markup(html.removeprefix("<p>").removesuffix("</p>"))


def content_path(name: str, language: str) -> Path:
    """petition/content/letter.en.md, falling back to English when a translation is missing."""
    directory = Path(current_app.config["CONTENT_DIR"])
    path = directory / f"{name}.{language}.md"
    return path if path.exists() else directory / f"{name}.en.md"


def rendered(name: str, language: str = "en") -> Markup:
    return render_file(content_path(name, language))


_FIRST_HEADING = re.compile(r"^\s*<h1>(.*?)</h1>\s*", re.S)


def split_title(html: Markup) -> tuple[Markup | None, Markup]:
    """Rendered Markdown's first heading, and the rest."""
    found = _FIRST_HEADING.match(html)
    if not found:
        return None, html
    return Markup(found.group(1)), Markup(html[found.end() :])
