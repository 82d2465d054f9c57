"""The delivery copy: a cover (the addressees, the date of delivery, the initiators, a contact), the
letter as published, the counts, and the listed signatories under a heading per group sorted by name
(Chinese names in pinyin order), with a line per group for those counted but not named. Every page
carries its number and the fingerprints (SHA-256) of the list and of the letter's text, so a
recipient can check that two copies are the same. As an A4 PDF with its fonts embedded (typst, see
typeset.py), or as HTML to print from a browser.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup
from pypinyin import lazy_pinyin
from sqlalchemy import select

from . import content, listing, versions
from .counts import Counts, current_counts
from .extensions import db
from .groups import Group, all_groups
from .initiators import initiators
from .models import Signature, now_utc

if TYPE_CHECKING:
    from markdown_it.token import Token

    from .typeset import Report


@dataclass
class GroupList:
    group: Group
    names: list[tuple[str, str]] = field(default_factory=list)  # (name, affiliation), in order
    unlisted: int = 0
    not_listed: int = 0  # asked to be named, but the organisers have not listed the name (LIST_REVIEW)


@dataclass
class DeliveryCopy:
    language: str
    title: Markup | None
    letter: Markup
    counts: Counts
    groups: list[GroupList]
    list_fingerprint: str
    letter_fingerprint: str
    made_at: datetime
    letter_source: str = ""  # the Markdown, as published
    version: int | None = None
    version_date: datetime | None = None
    signed_per_version: dict[int | None, int] = field(default_factory=dict)

    def listed_names(self) -> int:
        return sum(len(entry.names) for entry in self.groups)

    def versions_signed(self) -> list[tuple[int, int]]:
        """(version, signatures made under it), newest first."""
        return sorted(((v, n) for v, n in self.signed_per_version.items() if v is not None), reverse=True)


def name_order(name: str) -> str:
    """Chinese names by their pinyin (王小明 between Wang and Warren), others as written."""
    return " ".join(lazy_pinyin(name)).casefold()


def listed_signatories() -> Iterator[tuple[str, str, str]]:
    """(group, name, affiliation) of everyone on the public list, read in batches."""
    statement = (
        select(Signature.group, Signature.name, Signature.affiliation)
        .where(Signature.listed_publicly)
        .execution_options(yield_per=5000)
    )
    yield from db.session.execute(statement)  # plain tuples: nothing else of a row is kept


def fingerprint(groups: list[GroupList]) -> str:
    """SHA-256 of the list exactly as printed: group, name, affiliation per line, then the unnamed."""
    digest = hashlib.sha256()
    for entry in groups:
        for name, affiliation in entry.names:
            digest.update(f"{entry.group.key}\t{name}\t{affiliation}\n".encode())
        digest.update(f"{entry.group.key}\tunlisted\t{entry.unlisted}\n".encode())
        if entry.not_listed:
            digest.update(f"{entry.group.key}\tnot listed\t{entry.not_listed}\n".encode())
    return digest.hexdigest()


def delivery_copy(language: str) -> DeliveryCopy:
    counts = current_counts()
    awaiting = listing.awaiting_per_group()
    groups = {
        group.key: GroupList(group, unlisted=counts.unlisted_of(group.key), not_listed=awaiting.get(group.key, 0))
        for group in all_groups()
    }
    for key, name, affiliation in listed_signatories():
        groups[key].names.append((name, affiliation))
    for entry in groups.values():
        entry.names.sort(key=lambda pair: (name_order(pair[0]), pair[0], pair[1]))
    ordered = list(groups.values())
    text = versions.letter_text(language)
    title, letter = content.split_title(content.markdown(text))
    version = versions.current()
    return DeliveryCopy(
        language=language,
        title=title,
        letter=letter,
        counts=counts,
        groups=ordered,
        list_fingerprint=fingerprint(ordered),
        letter_fingerprint=versions.sha256(text),
        letter_source=text,
        version=version.number if version else None,
        version_date=version.published_at if version else None,
        signed_per_version=versions.signed_per_version(),
        made_at=now_utc(),
    )


def render_html(copy: DeliveryCopy, for_print: bool = False) -> str:
    """The whole copy as one page, to read or print from a browser."""
    with force_locale(copy.language):
        return render_template("delivery/copy.html", copy=copy, for_print=for_print)


# --- The letter on paper ---------------------------------------------------------------------------
#
# The letter is printed as published, less what only makes sense on the web: a link prints as its
# words, never its address; a sentence that sends the reader to a page of the site is left out; and
# the closing line in italics before the notes, which points to the list on the site, says instead
# that the list follows.

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


# --- What typst lays out -----------------------------------------------------------------------------


def cover_settings() -> str:
    """What the cover prints from the settings, as one string: under other settings, another copy."""
    config = current_app.config
    delivery_date = config["DELIVERY_DATE"]
    return "\n".join(
        [
            "; ".join(config["INITIATORS"]),
            config["CONTACT_EMAIL"],
            delivery_date.isoformat() if delivery_date else "",
        ]
    )


def _locale(language: str) -> str:
    return "zh_Hans_CN" if language == "zh" else "en_GB"


def _date(moment: date, language: str) -> str:
    return format_date(moment, "long" if language == "zh" else "d MMMM y", locale=_locale(language))


def _with_count(words: str, n: str, language: str) -> str:
    """International scholars (28); 中国学者（28）."""
    return f"{words}（{n}）" if language == "zh" else f"{words} ({n})"


def _around(template: str) -> list[str]:
    """A translated "Page %(page)s" as the words before and after the number typst fills in."""
    before, _, after = template.partition("\x00")
    return [before, after]


def document(copy: DeliveryCopy) -> dict[str, Any]:
    """Everything the copy prints but the list, in its language."""
    language = copy.language
    with force_locale(language):
        number = functools.partial(format_decimal, locale=_locale(language))
        sep = "，" if language == "zh" else ", "
        letter = letter_on_paper(copy.letter_source, language, _("The list of signatories follows."))
        title = plain(letter.title) if letter.title else _("Open letter on labour NGOs in Guangdong")
        named = initiators()
        contact = current_app.config["CONTACT_EMAIL"]
        delivery_date = current_app.config["DELIVERY_DATE"]
        listed = copy.listed_names()
        rows = [
            (_("Addressed to"), [letter.addressees or _("The letter does not name its addressees.")]),
            (
                _("Date of delivery"),
                [_date(delivery_date, language)]
                if delivery_date
                else [_("%(date)s (the day this copy was made)", date=_date(copy.made_at.date(), language))],
            ),
            (
                _("Initiators"),
                [name + (sep + affiliation if affiliation else "") for name, affiliation in named]
                or [_("The initiators are not named in this copy.")],
            ),
            (_("Contact"), [contact or _("No contact address is given in this copy.")]),
            (
                _("Signatures"),
                [
                    *(
                        f"{entry.group.plural(language)}{'：' if language == 'zh' else ': '}"
                        f"{number(copy.counts.of(entry.group.key))}"
                        for entry in copy.groups
                    ),
                    _(
                        "In all: %(total)s, of whom %(listed)s are named in this copy.",
                        total=number(copy.counts.total),
                        listed=number(listed),
                    ),
                ],
            ),
            (
                _("Contents"),
                [
                    _("The letter: page %(page)s", page="{letter}"),
                    _("Signatures and fingerprints: page %(page)s", page="{counts}"),
                    _("List of signatories: from page %(page)s", page="{list}"),
                ],
            ),
        ]
        made = _("Made on %(date)s (UTC).", date=copy.made_at.strftime("%Y-%m-%d %H:%M"))
        version = (
            _(
                "Text of the letter: version %(n)s, published on %(date)s.",
                n=copy.version,
                date=copy.version_date.strftime("%Y-%m-%d"),
            )
            if copy.version and copy.version_date
            else ""
        )
        fingerprints = [
            (_("Fingerprint of the list of signatories (SHA-256):"), copy.list_fingerprint),
            (_("Fingerprint of the letter's text (SHA-256):"), copy.letter_fingerprint),
        ]
        versions_rows = [[_("Version %(n)s", n=n), number(count)] for n, count in copy.versions_signed()]
        if copy.version and copy.signed_per_version.get(None):
            versions_rows.append([_("Before the first version"), number(copy.signed_per_version[None])])
        check = (
            _(
                "To check that a copy is complete and unchanged, send its list fingerprint to %(contact)s: the "
                "organisers recompute it from the signatures on record, and any name added, removed or altered "
                "gives a different fingerprint.",
                contact=contact,
            )
            if contact
            else _(
                "To check that a copy is complete and unchanged, ask the organisers to recompute its list "
                "fingerprint from the signatures on record: any name added, removed or altered gives a different "
                "fingerprint."
            )
        )
        return {
            "lang": language,
            "sep": sep,
            "meta": {
                "title": title,
                "author": "; ".join(name for name, _affiliation in named) or _("The organisers of the open letter"),
                "subject": _("Open letter and its signatories: delivery copy"),
                "keywords": [f"list SHA-256 {copy.list_fingerprint}", f"letter SHA-256 {copy.letter_fingerprint}"],
                "created": copy.made_at.strftime("D:%Y%m%d%H%M%SZ"),
                "list_sha256": copy.list_fingerprint,
                "letter_sha256": copy.letter_fingerprint,
            },
            "words": {
                "page": _around(_("Page %(page)s", page="\x00")),
                "stamp": _(
                    "List SHA-256 %(list)s · letter SHA-256 %(letter)s",
                    list=copy.list_fingerprint[:16],
                    letter=copy.letter_fingerprint[:16],
                ),
                "continued": ("" if language == "zh" else " ") + _("(continued)"),
                "order": _("In each group in alphabetical order (Chinese names by their pinyin), numbered."),
            },
            "cover": {
                "kind": _("Open letter and its signatories: delivery copy"),
                "title": title,
                "rows": rows,
                "foot": [line for line in (made, version) if line],
            },
            "letter": {"title": letter.title, "blocks": letter.blocks, "notes": letter.notes},
            "counts": {
                "heading": _("Signatures"),
                "rows": [
                    [entry.group.plural(language), number(copy.counts.of(entry.group.key))] for entry in copy.groups
                ],
                "total": [_("All signatures"), number(copy.counts.total)],
                "versions_caption": _("Signed under each version of the letter"),
                "versions": versions_rows if copy.version else [],
                "notes": [
                    line
                    for line in (
                        made,
                        version,
                        _("Two copies with the same fingerprints list the same signatories under the same text."),
                    )
                    if line
                ],
                "fingerprints": fingerprints,
            },
            "list_heading": _("Signatories"),
            "closing": {
                "lines": [check],
                # In groups of 16, two to a line, to fit a column.
                "fingerprints": [(label, " ".join(re.findall(".{1,16}", value))) for label, value in fingerprints],
                "pages": _around(_("This copy has %(n)s pages.", n="\x00")),
            },
        }


def list_items(copy: DeliveryCopy) -> tuple[list[list[Any]], str]:
    """The list as typst lays it out, one item each: a group's heading ["h", i, words, group], a name
    ["n", i, number, name, affiliation], a line for those not named ["u", i, words]; and the widest
    number, to set the numbers' column by."""
    language = copy.language
    items: list[list[Any]] = []
    widest = 1
    with force_locale(language):
        number = functools.partial(format_decimal, locale=_locale(language))
        for entry in copy.groups:
            plural = entry.group.plural(language)
            heading = _with_count(plural, number(copy.counts.of(entry.group.key)), language)
            items.append(["h", len(items), heading, plural])
            for n, (name, affiliation) in enumerate(entry.names, start=1):
                items.append(["n", len(items), number(n), breakable(name), breakable(affiliation)])
            widest = max(widest, len(entry.names))
            if entry.unlisted:
                group = entry.group.label(language) if entry.unlisted == 1 else plural
                words = ngettext(
                    "and %(num)s %(group)s who asked not to be named",
                    "and %(num)s %(group)s who asked not to be named",
                    entry.unlisted,
                    group=group,
                )
                items.append(["u", len(items), words])
            if entry.not_listed:  # under review, or declined: said plainly, without a reason
                group = entry.group.label(language) if entry.not_listed == 1 else plural
                words = ngettext(
                    "and %(num)s more %(group)s who signed",
                    "and %(num)s more %(group)s who signed",
                    entry.not_listed,
                    group=group,
                )
                items.append(["u", len(items), words])
    return items, number_width(widest, language)


_LONG_WORD = re.compile(r"\S{25,}")


def breakable(text: str) -> str | list[str]:
    """A name or affiliation with a very long word (a 200-letter name, a pasted address) as pieces typst
    may break a line between, so it wraps in its column instead of running over the next; others as
    they are."""
    if not _LONG_WORD.search(text):
        return text
    pieces: list[str] = []
    for part in re.split(r"(\s+)", text):
        if _LONG_WORD.fullmatch(part):
            pieces.extend(part[i : i + 8] for i in range(0, len(part), 8))
        elif part:
            pieces.append(part)
    return pieces


def number_width(widest: int, language: str) -> str:
    return format_decimal(widest, locale=_locale(language)).translate(str.maketrans("0123456789", "0" * 10)) + "."


def write_pdf(
    copy: DeliveryCopy,
    target: IO[bytes] | str,
    progress: Callable[[int], None] | None = None,
    report: Report | None = None,
) -> int:
    """Write the A4 PDF; return its number of pages. After each part of the list, `progress` is told
    how many names are done (see typeset.py)."""
    from . import typeset

    items, widest = list_items(copy)
    return typeset.typeset(document(copy), items, widest, target, progress, report)


@dataclass
class Printed:
    """The fingerprints a delivery copy carries in its document information, as it was made."""

    language: str
    list_sha256: str
    letter_sha256: str


def fingerprints_in(path: str | Path) -> Printed:
    """Read a delivery copy's fingerprints back from the PDF; ValueError when it carries none."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        info = PdfReader(path).metadata
    except (PdfReadError, OSError) as error:
        raise ValueError(f"{path} cannot be read as a PDF: {error}") from None
    keys = ("/DeliveryLanguage", "/ListSHA256", "/LetterSHA256")
    found = [str(info.get(key) or "") if info is not None else "" for key in keys]
    if not all(found) or found[0] not in ("en", "zh"):
        raise ValueError(f"{path} carries no fingerprints: it is not a delivery copy made by this site.")
    return Printed(*found)
