"""The pictures a link preview and a phone's home screen show: a 1200x630 card per language (og:image)
and the icons, drawn by Chromium from templates/share/card.html and static/favicon.svg. When the letter
has other addresses (reach/locations.py), the cards write them all out.

They are files in static/share/, made once and committed: `flask --app wsgi share images` redraws them
after the letter's title or its addresses change (it needs the test dependencies: Playwright and
Debian's chromium).
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from petition.letter import versions
from petition.reach.locations import addresses
from petition.web.locales import HTML_LANG, SUPPORTED

if TYPE_CHECKING:
    from playwright.sync_api import Page

CARD_SIZE = (1200, 630)
ICON_SIZES = {"apple-touch-icon.png": 180, "icon-192.png": 192, "icon-512.png": 512}
FAVICON_SIZES = (16, 32, 48)


def share_dir() -> Path:
    return Path(current_app.static_folder or "static") / "share"


def letter_title(language: str) -> str:
    """The first heading of the letter's Markdown: the card says what the page says."""
    for line in versions.letter_text(language).splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return _("Open letter on labour NGOs in Guangdong")


def card_addresses(language: str) -> list[tuple[str, str]]:
    """Every address of the letter in `language`, each with what kind it is (if not the site's own), to
    be written on the card: a picture passed on where the letter's name is blocked carries the other
    addresses, as text to type. None when the letter has one address."""
    everywhere = addresses()
    if len(everywhere) < 2:
        return []
    notes = {"onion": _("(in Tor Browser)"), "mirror": _("(a copy)")}
    return [(address.letter(language), notes.get(address.kind, "")) for address in everywhere]


def card_html(language: str) -> str:
    with force_locale(language):
        return render_template(
            "share/card.html",
            html_lang=HTML_LANG[language],
            kicker=_("An open letter from scholars"),
            title=letter_title(language),
            site=_("Open letter on labour NGOs in Guangdong"),
            call=_("Read and sign"),
            addresses_heading=_("The letter is at each of these addresses:"),
            addresses=card_addresses(language),
        )


def draw_card(page: Page, language: str) -> bytes:
    """The card in `language` as a PNG, drawn in `page` (a Playwright page of CARD_SIZE)."""
    page.set_content(card_html(language))
    return page.screenshot()


def ico_from_pngs(pngs: list[bytes]) -> bytes:
    """An .ico holding PNG images (every browser since Windows Vista reads them)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, images = b"", b""
    for png in pngs:
        width, height = struct.unpack(">II", png[16:24])
        entries += struct.pack("<BBBBHHII", width % 256, height % 256, 0, 0, 1, 32, len(png), offset + len(images))
        images += png
    return header + entries + images


def draw_all(out: Path | None = None, chromium: str | None = None) -> list[Path]:
    """Draw the cards and icons into `out` (static/share/); returns the files written."""
    from playwright.sync_api import sync_playwright  # a test dependency: only this command needs it

    executable = chromium or os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not executable:
        raise RuntimeError("Chromium is needed to draw the images: apt-get install chromium fonts-noto-cjk")
    out = out or share_dir()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    icon_svg = (Path(current_app.static_folder or "static") / "favicon.svg").read_text(encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": CARD_SIZE[0], "height": CARD_SIZE[1]})
        for language in SUPPORTED:
            written.append(out / f"card-{language}.png")
            written[-1].write_bytes(draw_card(page, language))

        def icon(size: int, square: bool = False) -> bytes:
            # A home-screen icon is square and opaque (the phone rounds its corners); a favicon keeps its own.
            background = "#8a1c1c" if square else "transparent"
            page.set_viewport_size({"width": size, "height": size})
            page.set_content(
                f'<body style="margin:0;background:{background}">'
                f'<div style="width:{size}px;height:{size}px">{icon_svg}</div></body>'
            )
            page.eval_on_selector("svg", "s => { s.setAttribute('width', '100%'); s.setAttribute('height', '100%'); }")
            return page.screenshot(omit_background=not square)

        for name, size in ICON_SIZES.items():
            written.append(out / name)
            written[-1].write_bytes(icon(size, square=True))
        written.append(out / "favicon.ico")
        written[-1].write_bytes(ico_from_pngs([icon(size) for size in FAVICON_SIZES]))
        browser.close()
    return written
