"""What an email says, in the two forms mail programs show: plain text, and HTML that says the same.

Every email is written as plain text (its template, or an organiser's news in Markdown turned into
text here). The HTML part is made from that text when the email is sent, so the two parts can never
say different things, and nothing in it loads from anywhere (no images, no styles from elsewhere).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import escape

from petition.letter.content import paragraph_per_line
from petition.letter.markdown_cjk import chinese_aware

# The same dialect as the site's pages (content.news_markdown), with raw HTML off, and a paragraph
# for each line typed, as the page shows them.
_markdown = chinese_aware(
    MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["replacements", "smartquotes"])
)
_markdown.core.ruler.push("paragraph_per_line", paragraph_per_line)

_URL = re.compile(r"https?://[^\s<>\"'）」】，。]+[^\s<>\"'）」】，。.,:;!?)]")


def markdown_as_text(text: str, base_url: str) -> str:
    """An organiser's Markdown as an email's plain text: no `**` or `[..](..)` left to read, each
    link written out in full after its words (a relative one made absolute against base_url), images
    as their description, paragraphs and list items on lines of their own."""
    blocks: list[str] = []
    lists: list[list[int]] = []  # per open list: [numbered (0 or 1), the next number, items so far]
    marker = ""  # what the next paragraph starts with: a list item's bullet or number
    tight = False  # the paragraph is an item of a tight list: on the line after the item before it
    for token in _markdown.parse(text):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append([token.type == "ordered_list_open", int(token.attrGet("start") or 1), 0])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open" and lists:
            numbered, number, _ = lists[-1]
            marker = f"{number}. " if numbered else "- "
            lists[-1][1] += 1
            lists[-1][2] += 1
        elif token.type == "paragraph_open":
            tight = token.hidden and bool(marker) and lists[-1][2] > 1
        elif token.type == "inline":
            line = marker + _inline_text(token, base_url)
            if tight and blocks:
                blocks[-1] += "\n" + line
            else:
                blocks.append(line)
            marker = ""
        elif token.type in ("code_block", "fence"):
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(block for block in blocks if block.strip())


def _inline_text(token: Token, base_url: str) -> str:
    parts: list[str] = []
    link: list[str] = []  # the address of the link being read, and where its words start
    start = 0
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "link_open":
            link, start = [urljoin(base_url, str(child.attrGet("href") or ""))], len(parts)
        elif child.type == "link_close" and link:
            words = "".join(parts[start:])
            if words.strip() != link[0]:
                parts.append(f" ({link[0]})")
            link = []
    return "".join(parts)


_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def language_of(subject: str) -> str:
    """The language an email was written in, for its HTML part's lang, from its subject: every email
    is in one of the site's two languages, and only the Chinese subjects hold Chinese characters (a
    body may hold a Chinese name in an English email; a subject names nobody)."""
    return "zh-Hans" if _CHINESE.search(subject) else "en"


def html_version(text: str, language: str = "en") -> str:
    """The plain text as a small HTML document: paragraphs at blank lines, line breaks kept, every
    address a link (but an onion service's: _linked). It says exactly what the text says."""
    paragraphs = [part for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]
    body = "\n".join(f"<p>{_linked(paragraph)}</p>" for paragraph in paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}">\n<head><meta charset="utf-8"></head>\n'
        f'<body style="font-family: sans-serif; line-height: 1.5">\n{body}\n</body>\n</html>\n'
    )


def _linked(paragraph: str) -> str:
    """The paragraph, escaped, with every address a link but an onion service's: it opens only in Tor
    Browser, where mail is rarely read, so its reader copies it there; and SpamAssassin scores a link
    to a host of random letters (URI_NOVOWEL, 0.5 points)."""
    pieces: list[str] = []
    last = 0
    for found in _URL.finditer(paragraph):
        if (urlsplit(found.group(0)).hostname or "").endswith(".onion"):
            continue
        pieces.append(str(escape(paragraph[last : found.start()])))
        url = escape(found.group(0))
        pieces.append(f'<a href="{url}">{url}</a>')
        last = found.end()
    pieces.append(str(escape(paragraph[last:])))
    return "".join(pieces).replace("\n", "<br>\n")
