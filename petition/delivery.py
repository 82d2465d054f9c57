"""The delivery copy: the letter as published, the counts, and the listed signatories under a heading
per group sorted by name (Chinese names in pinyin order), with a line per group for those counted but
not named. Every page carries page numbers and a fingerprint (SHA-256) of the list and of the letter's
text, so a recipient can check that two copies are the same. As HTML for printing, or as an A4 PDF
with its fonts embedded (WeasyPrint).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from pypinyin import lazy_pinyin
from sqlalchemy import select

from . import content, listing, versions
from .counts import Counts, current_counts
from .extensions import db
from .groups import Group, all_groups
from .models import Signature, now_utc

STYLESHEET = "css/delivery.css"


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
        version=version.number if version else None,
        version_date=version.published_at if version else None,
        signed_per_version=versions.signed_per_version(),
        made_at=now_utc(),
    )


def render_html(copy: DeliveryCopy, for_print: bool = False) -> str:
    """The whole copy as one page, to read or print from a browser."""
    with force_locale(copy.language):
        return render_template("delivery/copy.html", copy=copy, for_print=for_print)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def css_content(template: str) -> str:
    """A translated "Page %(page)s" as a CSS content value with the live page counter."""
    parts = re.split(r"%\((\w+)\)s", template)
    return " ".join(f"counter({part})" if i % 2 else _css_string(part) for i, part in enumerate(parts) if part)


def page_css(copy: DeliveryCopy, first_page: int = 1) -> str:
    """Every page's margins: its number and the fingerprints, in the copy's language. A part of the
    copy starts counting at `first_page`."""
    with force_locale(copy.language):
        numbers = css_content(_("Page %(page)s"))
        stamp = _(
            "List SHA-256 %(list)s · letter SHA-256 %(letter)s",
            list=copy.list_fingerprint[:16],
            letter=copy.letter_fingerprint[:16],
        )
    return (
        f"@page :first {{ counter-reset: page {first_page}; }}"
        "@page { size: A4; margin: 22mm 20mm 24mm;"
        f" @bottom-right {{ content: {numbers}; font-size: 8pt; }}"
        f" @bottom-left {{ content: {_css_string(stamp)}; font-size: 7pt; color: #555; }} }}"
    )


NAMES_PER_PART = 1500  # about 16 pages: each part is laid out on its own, so memory stays bounded


def _parts(copy: DeliveryCopy) -> Iterator[tuple[str, dict[str, Any]]]:
    """The copy as a run of HTML documents: the front, then each group's names in parts."""
    yield "delivery/front.html", {}
    for entry in copy.groups:
        runs = [entry.names[i : i + NAMES_PER_PART] for i in range(0, len(entry.names), NAMES_PER_PART)] or [[]]
        for number, run in enumerate(runs):
            yield (
                "delivery/names.html",
                {
                    "entry": entry,
                    "run": run,
                    "first": number * NAMES_PER_PART + 1,
                    "is_first": number == 0,
                    "is_last": number == len(runs) - 1,
                },
            )


def write_pdf(copy: DeliveryCopy, target: IO[bytes] | str, progress: Callable[[int], None] | None = None) -> int:
    """Write the A4 PDF; return its number of pages. Each part is laid out by WeasyPrint, numbered
    on from the one before, and kept in a temporary file; pypdf joins them at the end. After each
    part, `progress` is told how many names are done."""
    from pypdf import PdfWriter
    from weasyprint import CSS, HTML  # loads Pango; only the delivery copy needs it

    stylesheet = CSS(filename=str(Path(current_app.static_folder or "static") / STYLESHEET))
    pages = done = 0
    with tempfile.TemporaryDirectory(prefix="delivery-") as folder:
        files = []
        for index, (template, values) in enumerate(_parts(copy)):
            with force_locale(copy.language):
                html = render_template(template, copy=copy, **values)
            document = HTML(string=html).render(stylesheets=[stylesheet, CSS(string=page_css(copy, pages + 1))])
            files.append(Path(folder) / f"{index:05d}.pdf")
            document.write_pdf(files[-1])
            pages += len(document.pages)
            del document
            done += len(values.get("run", ()))
            if progress is not None:
                progress(done)
        writer = PdfWriter()
        for part in files:
            writer.append(str(part))
        writer.write(target)
        writer.close()
    return pages
