"""The letter on paper: its Markdown as blocks and runs of text for typst, without links to the site."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from petition.letter import content

if TYPE_CHECKING:
    from markdown_it.token import Token


Runs = list[Any]  # ["t", text] | ["b", runs] | ["i", runs] | ["c", code] | ["br"]


Block = list[Any]  # ["p", runs] | ["p0", runs] | ["h", level, runs] | ["ol", start, items] | ...


_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^)\s]*)[^)]*\)")


_SENTENCE_END = re.compile(r"(?<=[.!?])(?=\s)|(?<=[。！？])")


def _without_links_to_the_site(text: str) -> str:
    """The Markdown, less each sentence that holds a link to a page of this site."""
    return "".join(_paragraph_for_paper(paragraph) for paragraph in re.split(r"(\n[ \t]*\n)", text))


def _paragraph_for_paper(paragraph: str) -> str:
    links = [match.group(0) for match in _LINK.finditer(paragraph)]
    on_site = {f"\x00{n}\x00" for n, link in enumerate(links) if content.is_on_this_site(_address(link))}
    if not on_site:
        return paragraph
    # Each link set aside while the paragraph is cut into sentences: an address may hold a full stop.
    numbers = iter(range(len(links)))
    hidden = _LINK.sub(lambda _: f"\x00{next(numbers)}\x00", paragraph)
    sentences = [part for part in _SENTENCE_END.split(hidden) if not any(mark in part for mark in on_site)]
    kept = re.sub(r"\x00(\d+)\x00", lambda match: links[int(match.group(1))], "".join(sentences))
    return kept if kept.strip() else ""


def _address(link: str) -> str:
    found = _LINK.fullmatch(link)
    return found.group(1) if found else ""


def _runs(children: list[Token], language: str) -> Runs:
    out: Runs = []
    outer: list[tuple[str, Runs]] = []
    for token in children:
        kind = token.type
        if kind in ("text", "image"):  # an image: its description
            out.append(["t", token.content])
        elif kind == "softbreak":
            out.append(["t", "" if language == "zh" else " "])
        elif kind == "hardbreak":
            out.append(["br"])
        elif kind == "code_inline":
            out.append(["c", token.content])
        elif kind in ("strong_open", "em_open"):
            outer.append(("b" if kind == "strong_open" else "i", out))
            out = []
        elif kind in ("strong_close", "em_close") and outer:
            mark, enclosing = outer.pop()
            enclosing.append([mark, out])
            out = enclosing
        # link_open and link_close: the words stay, the address goes.
    return out


def _blocks(tokens: list[Token], language: str, start: int = 0, until: str = "") -> tuple[list[Block], int]:
    """The blocks from tokens[start] up to the token `until` closes; and where to go on from."""
    blocks: list[Block] = []
    i = start
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == until:
            return blocks, i + 1
        i += 1
        if kind == "paragraph_open":
            blocks.append(["p", _runs(tokens[i].children or [], language)])
        elif kind == "heading_open":
            blocks.append(["h", int(token.tag[1:]), _runs(tokens[i].children or [], language)])
        elif kind in ("ordered_list_open", "bullet_list_open"):
            items: list[list[Block]] = []
            while tokens[i].type == "list_item_open":
                item, i = _blocks(tokens, language, i + 1, "list_item_close")
                items.append(item)
            i += 1
            if kind == "ordered_list_open":
                blocks.append(["ol", int(token.attrGet("start") or 1), items])
            else:
                blocks.append(["ul", items])
        elif kind == "blockquote_open":
            inner, i = _blocks(tokens, language, i, "blockquote_close")
            blocks.append(["quote", inner])
        elif kind == "hr":
            blocks.append(["hr"])
        elif kind in ("fence", "code_block"):
            blocks.append(["code", token.content])
        elif kind == "tr_open":  # a table's row: its cells as one line
            cells = []
            while tokens[i].type != "tr_close":
                if tokens[i].type == "inline":
                    cells.append(_runs(tokens[i].children or [], language))
                i += 1
            blocks.append(["p", [run for n, cell in enumerate(cells) for run in ([["t", " · "]] if n else []) + cell]])
    return blocks, i


def plain(runs: Runs) -> str:
    """The words of runs, without their emphasis."""
    return "".join(run[1] if run[0] in ("t", "c") else plain(run[1]) if run[0] in ("b", "i") else " " for run in runs)


@dataclass
class Letter:
    title: Runs | None
    blocks: list[Block]
    notes: list[Block]  # after the letter's rule: where its facts come from, in smaller type
    addressees: str | None  # its salutation, without "To" and the colon


def letter_on_paper(text: str, language: str, signed_line: str) -> Letter:
    blocks, _ = _blocks(content.parse(_without_links_to_the_site(text)), language)
    title = blocks.pop(0)[2] if blocks and blocks[0][:2] == ["h", 1] else None
    rule = next((n for n, block in enumerate(blocks) if block[0] == "hr"), len(blocks))
    body, notes = blocks[:rule], blocks[rule + 1 :]
    if body and body[-1][0] == "p" and len(body[-1][1]) == 1 and body[-1][1][0][0] == "i":
        body[-1] = ["p", [["i", [["t", signed_line]]]]]
    addressees = None
    first = next((block for block in body if block[0] == "p"), None)
    if first is not None and plain(first[1]).rstrip().endswith((":", "：")):
        first[0] = "p0"  # a salutation is not indented
        addressees = re.sub(r"^[Tt]o\s+", "", plain(first[1]).strip().rstrip(":："))
        addressees = addressees[:1].upper() + addressees[1:]
    return Letter(title, body, notes, addressees)
