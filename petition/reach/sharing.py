"""Passing the letter on: its address in a language, links that share it, and a QR code for WeChat.

Every link is a plain link: nothing is loaded from another site until the reader follows one.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from petition.reach.locations import building_mirror
from petition.web.links import here_link

# Where each service takes a link to share (each one's documented "share" or "intent" address).
SERVICES = (
    ("X", "https://x.com/intent/tweet", lambda url, text: {"text": text, "url": url}),
    ("Bluesky", "https://bsky.app/intent/compose", lambda url, text: {"text": f"{text} {url}"}),
    ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/", lambda url, text: {"url": url}),
    ("Facebook", "https://www.facebook.com/sharer/sharer.php", lambda url, text: {"u": url}),
    (_l("Weibo"), "https://service.weibo.com/share/share.php", lambda url, text: {"url": url, "title": text}),
)


@dataclass(frozen=True)
class ShareLink:
    service: str  # its name as the reader knows it (微博 in Chinese)
    href: str


def letter_url(language: str) -> str:
    """The letter's address in `language` (/en/ or /zh/): whoever opens it reads that language. On
    the address the reader is at (an alternate one, the onion service), else on SITE_URL."""
    return here_link("public.index", lang=language)


def share_text() -> str:
    return _("Scholars are asking the Guangdong authorities to stop the crackdown on labour NGOs. Read and sign:")


def share_links(language: str) -> list[ShareLink]:
    url, text = letter_url(language), share_text()
    if building_mirror():  # a static copy links to no other site than the letter's own addresses
        return [email_link(url, text)]
    links = [ShareLink(str(name), f"{base}?{urlencode(fields(url, text))}") for name, base, fields in SERVICES]
    return [email_link(url, text), *links]


def email_link(url: str, text: str) -> ShareLink:
    subject = _("An open letter on labour NGOs in Guangdong")
    # mailto wants %20 for spaces, not +, or mail programs show the plus signs.
    query = f"subject={quote(subject)}&body={quote(text + chr(10) + chr(10) + url)}"
    return ShareLink("email", f"mailto:?{query}")


@functools.lru_cache(maxsize=8)
def qr_svg(url: str) -> str:
    """A QR code of `url` as SVG: dark modules on white with the quiet zone, scannable from a screen."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=4, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue().decode("utf-8")
