"""The delivery copy's layout as typst source: the cover, the letter and the list of names in columns."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from petition.delivery.copy import DeliveryCopy
from petition.delivery.paper import letter_on_paper, plain
from petition.letter.initiators import initiators

if TYPE_CHECKING:
    from petition.delivery.typeset import Report


def render_html(copy: DeliveryCopy, for_print: bool = False) -> str:
    """The whole copy as one page, to read or print from a browser."""
    with force_locale(copy.language):
        return render_template("delivery/copy.html", copy=copy, for_print=for_print)


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
    from petition.delivery import typeset

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
