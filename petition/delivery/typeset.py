"""The delivery copy laid out by typst, in parts, each part in a process of its own.

typst (the `typst` package: the typst compiler, in Rust) lays out 10,000 names in well under a second,
but it keeps everything it laid out in memory for the life of the process (its memoisation cache,
which the Python binding never empties): 100,000 names in one piece take 1.4 GB, and so do ten parts
of 10,000 made one after another in one process. Each part is therefore made by a fresh process
(typeset_part.py) that exits when it is done, and memory stays bounded by one part (ITEMS_PER_PART).

The list runs on from one part to the next as if laid out in one piece: a part that does not end the
list leaves out its last page, and the next part starts with the first item of that page (typst says
which: copy.typ's <next-part>), its pages numbered on. Every item is unbreakable, so no name is cut
between two pages. pypdf joins the parts and writes the document's information (title, author,
subject, language, and the fingerprints, which `flask delivery check` reads back).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "templates" / "delivery" / "copy.typ"
PART = Path(__file__).with_name("typeset_part.py")
# Items (names, mostly) laid out by one process: about 38 pages, 230 MB at most (10,000: 330 MB).
ITEMS_PER_PART = 5_000
PART_TIMEOUT_SECONDS = 600
LANGUAGE_TAGS = {"en": "en-GB", "zh": "zh-Hans"}


class TypesetError(RuntimeError):
    """typst could not lay out a part; the message says why (a font missing, say)."""


@dataclass
class Report:
    """How the copy was made: parts laid out, and the largest memory a part's process took."""

    parts: int = 0
    part_peak_mb: float = 0.0


@dataclass
class Part:
    path: Path
    pages: int
    next_item: int | None


def _lay_out(data: dict[str, Any], folder: Path, name: str, report: Report) -> Part:
    """One part, by a process of its own."""
    source, out = folder / f"{name}.json", folder / f"{name}.pdf"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    fonts = [str(path) for path in current_app.config["DELIVERY_FONT_DIRS"]]
    try:
        done = subprocess.run(
            # -P: the package's folder is not put on the path, where its modules would shadow others.
            [sys.executable, "-P", str(PART), str(TEMPLATE), str(source), str(out), *fonts],
            capture_output=True,
            text=True,
            timeout=PART_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TypesetError(f"laying out a part took more than {PART_TIMEOUT_SECONDS} s") from None
    finally:
        source.unlink(missing_ok=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise TypesetError(lines[-1] if lines else f"the typesetting process ended with {done.returncode}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    report.parts += 1
    report.part_peak_mb = max(report.part_peak_mb, answer["peak_mb"])
    return Part(out, answer["pages"], answer["next"])


def typeset(
    document: dict[str, Any],
    items: list[list[Any]],
    widest: str,
    target: IO[bytes] | str,
    progress: Callable[[int], None] | None = None,
    report: Report | None = None,
) -> int:
    """Lay out the front, then the list in parts, join them into `target`; the number of pages."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    report = report if report is not None else Report()
    names_before = [0]
    for item in items:
        names_before.append(names_before[-1] + (item[0] == "n"))
    writer = PdfWriter()
    with tempfile.TemporaryDirectory(prefix="delivery-") as name:
        folder = Path(name)
        front = _lay_out({**document, "part": "front", "first_page": 1}, folder, "front", report)
        writer.append(str(front.path))
        pages = front.pages
        start, size, number, continuing = 0, ITEMS_PER_PART, 0, None
        while start < len(items):
            end = min(len(items), start + size)
            data = {
                **{key: document[key] for key in ("lang", "sep", "words")},
                "part": "list",
                "first_page": pages + 1,
                "items": items[start:end],
                "widest": widest,
                "more": end < len(items),
                "heading": document["list_heading"] if start == 0 else None,
                "continuing": continuing,
                "closing": document["closing"] if end == len(items) else None,
            }
            number += 1
            part = _lay_out(data, folder, f"list-{number:04d}", report)
            if end < len(items) and part.next_item is not None and part.next_item <= start:
                size *= 2  # the whole part fitted on one page: a larger one
                continue
            if end < len(items) and part.next_item is not None:
                keep, following = part.pages - 1, part.next_item
            else:
                keep, following = part.pages, end
            writer.append(str(part.path), pages=list(range(keep)))
            pages += keep
            continuing = next((item[3] for item in reversed(items[:following]) if item[0] == "h"), None)
            start = following
            if progress is not None:
                progress(names_before[start])
        meta = document["meta"]
        writer.add_metadata(
            {
                "/Title": meta["title"],
                "/Author": meta["author"],
                "/Subject": meta["subject"],
                "/Keywords": "; ".join(meta["keywords"]),
                "/Creator": "Open letter site: delivery copy (typst)",
                "/CreationDate": meta["created"],
                "/ListSHA256": meta["list_sha256"],
                "/LetterSHA256": meta["letter_sha256"],
                "/DeliveryLanguage": document["lang"],
            }
        )
        writer.root_object[NameObject("/Lang")] = TextStringObject(LANGUAGE_TAGS[document["lang"]])
        writer.write(target)
        writer.close()
    return pages
