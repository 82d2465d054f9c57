"""A static copy of the public site that anyone can host: `flask mirror build DIR`.

The copy is the site: every page is rendered by the site's own views and templates, in both languages,
in requests marked as a copy's (reach.MIRROR_ENVIRON), which the templates read to leave out what a
folder of files cannot do (the form, the switcher's cookie, fresh counts) and to say on every page
when the copy was made and where the live letter is. The letter, the background, the versions, the
privacy page, the list of names page after page (the live list's own query: only names it shows), the
chart, the feeds, the QR codes and the static files; nothing private, nothing from another site.

Every link in it is relative and names a file (`../background/index.html`), so the folder works as it
is under any path on any host, or opened from a USB stick. The whole copy is read in one transaction
(a snapshot): its counts, list and fingerprint are of one moment. `manifest.json` lists every file
with its SHA-256, the counts and the list's fingerprint as the delivery copy computes it.

Building into the same folder again writes only the files whose content changed: a page whose only
change would be the time of the copy keeps its file (and says when that copy was made). Files of the
last build that this one no longer makes (a list page fewer) are removed; a folder holding other
files and no manifest.json is refused, so the command never overwrites anything it did not make.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import posixpath
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import current_app, g, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape

from petition.db.transactions import reading_only
from petition.delivery.copy import delivery_copy
from petition.extensions import db
from petition.letter import versions
from petition.reach.locations import MIRROR_ENVIRON, MirrorCopy, addresses, made_time
from petition.signatories.counts import current_counts
from petition.web.locales import HTML_LANG, SUPPORTED
from petition.web.static_files import MANIFEST as STATIC_MANIFEST

MANIFEST = "manifest.json"
# The host the copy's requests are made for: reserved (RFC 2606), so never one of ALTERNATE_URLS, and
# every absolute address on a copy's pages is SITE_URL's.
STAND_IN_BASE = "http://mirror.invalid/"
# The pages of each language: endpoint, and its file under the language's folder.
PAGES = (
    ("public.index", "index.html"),
    ("public.background", "background/index.html"),
    ("public.letter_versions", "letter/versions/index.html"),
    ("public.privacy", "privacy/index.html"),
    ("public.growth_chart", "signatories/growth/index.html"),
    ("public.updates_feed", "updates.atom"),
)
LIST = "public.signatories"
# On a copy, the sign button leads to a page with the live addresses; so does any link to a page the
# copy cannot have (asking for the email again, say).
LIVE_PAGE = ("public.sign", "sign/index.html")
# What the front page says after an address of each kind (the other pages: _macros.address_note).
NOTES: dict[str, Callable[[], str]] = {
    "site": lambda: "",
    "alternate": lambda: "",
    "onion": lambda: _("(in Tor Browser)"),
    "mirror": lambda: _("(a copy)"),
}
MADE_TIME = re.compile(rb'<time class="mirror-made" datetime="[^"]*">[^<]*</time>')
# A reference in a page (href="/en/"), or in a feed's escaped HTML (href=&quot;/en/&quot;).
REFERENCE = re.compile(r'(?<=\s)(href|src)=(?:"([^"]*)"|&quot;(.*?)&quot;)')
NEXT_PAGE = re.compile(r'rel="next" href="[^"]*[?&](?:amp;)?cursor=(\d+)')


class MirrorError(RuntimeError):
    """The copy cannot be made (the folder is someone else's, a page did not render)."""


@dataclass
class BuildReport:
    files: int = 0  # in the copy, manifest.json aside
    written: int = 0  # of them, written by this build (new or changed)
    removed: int = 0  # left over from the last build and removed
    names: int = 0  # on the list
    list_pages: int = 0  # per language
    list_fingerprint: str = ""
    seconds: float = 0.0
    digests: dict[str, str] = field(default_factory=dict, repr=False)


def build(target: Path, made_at: datetime | None = None) -> BuildReport:
    """Make or update the copy in `target` (inside an app context, with no transaction under way)."""
    started = time.perf_counter()
    target = Path(target)
    earlier = _earlier_files(target)
    copy = MirrorCopy(made_at=(made_at or datetime.now(UTC)).astimezone(UTC))
    report = BuildReport()
    _begin_snapshot()
    try:
        counts = current_counts()
        fingerprint = delivery_copy(SUPPORTED[0]).list_fingerprint
        _Maker(target, copy, report).make_everything()
        manifest = {
            "made_at": copy.made_at.isoformat(timespec="seconds"),
            "site_url": current_app.config["SITE_URL"],
            "live": [address.base for address in addresses() if address.is_live],
            "copies": [address.base for address in addresses() if not address.is_live],
            "counts": counts.as_json(),
            "list_fingerprint": fingerprint,
            # As the delivery copy and the versions page give them.
            "letter_sha256": {language: versions.sha256(versions.letter_text(language)) for language in SUPPORTED},
            "files": dict(sorted(report.digests.items())),
        }
    except BaseException:
        # What this build wrote stays known, so the next one removes what it no longer makes (a list
        # page with a name hidden since): the manifest then lists both builds' files.
        if report.digests:
            files = {**dict.fromkeys(earlier, ""), **report.digests}
            _write_manifest(target, {"incomplete": True, "files": dict(sorted(files.items()))})
        raise
    for stale in sorted(set(earlier) - set(report.digests)):
        _remove(target, stale)
        report.removed += 1
    _write_manifest(target, manifest)
    report.files, report.list_fingerprint = len(report.digests), fingerprint
    report.seconds = time.perf_counter() - started
    return report


def _write_manifest(target: Path, manifest: dict[str, Any]) -> None:
    _write_atomically(target / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode())


def _earlier_files(target: Path) -> list[str]:
    """The files the last build made here; a folder with other things in it and no manifest is not
    a copy, and is refused."""
    manifest = target / MANIFEST
    if manifest.is_file():
        try:
            return [name for name in json.loads(manifest.read_text(encoding="utf-8"))["files"] if _is_inside(name)]
        except (ValueError, KeyError, TypeError):
            raise MirrorError(f"{manifest} is not a copy's manifest.json: choose another folder.") from None
    if target.exists() and any(target.iterdir()):
        raise MirrorError(f"{target} is not empty and holds no manifest.json: choose an empty or new folder.")
    return []


def _is_inside(name: str) -> bool:
    """A name from a manifest names a file inside the copy (the manifest could have been edited)."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts


def _begin_snapshot() -> None:
    """One read-only transaction for the whole copy: its pages, counts and fingerprint agree."""
    if db.session.registry.has() and db.session().in_transaction():
        raise MirrorError("A copy reads in a transaction of its own: commit or roll back first.")
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    else:
        reading_only()  # SQLite: a deferred transaction, which holds one snapshot of the file until it ends
        db.session.connection()


class _Maker:
    """Renders each file of the copy and hands it to the writer with its links made relative."""

    def __init__(self, target: Path, copy: MirrorCopy, report: BuildReport) -> None:
        self.app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.target, self.copy, self.report = target, copy, report
        self.files: dict[str, str] = {}  # a path on the site -> its file in the copy
        self.lists: dict[str, str] = {}  # the list's path in each language -> the language
        self.cursor_pages: dict[str, int] = {}  # the list's cursor -> its page number (the same in each language)
        self.static: dict[str, Path] = {}  # a file in the copy -> the static file it is
        self.paths: dict[tuple[str, str], str] = {}  # (endpoint, language) -> its path on the site

    def make_everything(self) -> None:
        with self._request("/"):
            self._map_paths()
        self._put("index.html", self._root_page(), at="index.html")
        for language in SUPPORTED:
            for endpoint, file in PAGES:
                with self._request(self.path_of(endpoint, language)):
                    self._put(f"{language}/{file}", self._dispatch())
            with self._request(self.path_of(LIVE_PAGE[0], language)):
                self._put(f"{language}/{LIVE_PAGE[1]}", render_template("mirror/sign.html").encode())
            self._make_list(language)
            with self._request(f"/share/qr-{language}.svg"):
                self._put(f"share/qr-{language}.svg", self._dispatch())
        for name, source in self.static.items():
            self._put(name, source.read_bytes())

    def path_of(self, endpoint: str, language: str) -> str:
        return self.paths[endpoint, language]

    def _map_paths(self) -> None:
        """Which file of the copy each path of the site is (worked out by the site's own url_for)."""
        for language in SUPPORTED:
            for endpoint in (*(page[0] for page in PAGES), LIVE_PAGE[0], LIST):
                self.paths[endpoint, language] = url_for(endpoint, lang=language)
            for endpoint, file in (*PAGES, LIVE_PAGE):
                self.files[self.path_of(endpoint, language)] = f"{language}/{file}"
            self.lists[self.path_of(LIST, language)] = language
            self.files[url_for("public.letter_qr", language=language)] = f"share/qr-{language}.svg"
        self.files["/"] = "index.html"
        static = Path(self.app.static_folder or "static")
        served = self.app.extensions.get(STATIC_MANIFEST, {})  # fingerprinted names, unless in debug mode
        for path in sorted(static.rglob("*")):
            if path.is_file():
                name = served.get(path.relative_to(static).as_posix(), path.relative_to(static).as_posix())
                self.files[url_for("static", filename=name)] = f"static/{name}"
                self.static[f"static/{name}"] = path
        self.files[url_for("discovery.favicon")] = "favicon.ico"
        self.static["favicon.ico"] = static / "share" / "favicon.ico"

    def _make_list(self, language: str) -> None:
        """The list page after page, as its own pager walks it."""
        number, cursor, names = 1, None, 0
        while True:
            with self._request(self.path_of(LIST, language), {"cursor": cursor} if cursor else None):
                page = self._dispatch()
            following = NEXT_PAGE.search(page.decode("utf-8"))
            if following:
                self.cursor_pages.setdefault(following.group(1), number + 1)
            names += page.count(b'class="signatory-name"')
            self._put(list_file(language, number), page)
            if not following:
                break
            number, cursor = number + 1, following.group(1)
        self.report.names, self.report.list_pages = names, number

    def _root_page(self) -> bytes:
        """The copy's front door: the letter in each language, in each language."""
        languages = []
        for language in SUPPORTED:
            with self._request(self.path_of("public.index", language)), force_locale(language):
                languages.append(
                    {
                        "code": language,
                        "html_lang": HTML_LANG[language],
                        "title": _("Open letter on labour NGOs in Guangdong"),
                        "read": _("Read the letter"),
                        "href": self.path_of("public.index", language),
                        # The time is markup (a <time> element): the message is escaped, not the time.
                        "made": escape(_("This is a copy of the open letter's site, made on %(time)s."))
                        % {"time": made_time(self.copy)},
                        "where": _(
                            "To sign, or for today's counts, go to the letter itself; if one address does not open, "
                            "try another:"
                        ),
                        "addresses": [(address.letter(language), NOTES[address.kind]()) for address in addresses()],
                    }
                )
        with self._request("/"):
            return render_template("mirror/root.html", languages=languages).encode()

    @contextmanager
    def _request(self, path: str, query: dict[str, str] | None = None) -> Iterator[None]:
        """A request for `path` on the app, as a copy's: the site's own url processors and before-request
        hooks run (the page's language), none of its after-request ones (its one commit, headers)."""
        # The copy's requests share the build's app context, and so its `g`: each starts with none
        # of the last one's (its language, Flask-Babel's choice).
        for name in list(g):
            g.pop(name)
        with self.app.test_request_context(
            path, base_url=STAND_IN_BASE, query_string=query or {}, environ_base={MIRROR_ENVIRON: self.copy}
        ):
            early = self.app.preprocess_request()
            if early is not None:
                raise MirrorError(f"{path} answered before its view: {early!r}")
            yield

    def _dispatch(self) -> bytes:
        response = self.app.make_response(self.app.dispatch_request())
        if response.status_code != 200:
            raise MirrorError(f"A page of the copy answered {response.status_code}.")
        return response.get_data()

    def _put(self, name: str, content: bytes, at: str | None = None) -> None:
        if name.endswith((".html", ".atom")):
            content = self._relative_links(content.decode("utf-8"), at or name).encode("utf-8")
        self.report.digests[name] = _write_if_changed(self.target / name, content, self.report)

    def _relative_links(self, page: str, at: str) -> str:
        def relative(found: re.Match[str]) -> str:
            attribute, quoted, escaped = found.group(1), found.group(2), found.group(3)
            levels = 1 if quoted is not None else 2  # a feed's HTML is escaped once more
            reference = quoted if quoted is not None else escaped
            for _level in range(levels):
                reference = html.unescape(reference)
            value = self.relative_reference(reference, at)
            if value == reference:
                return found.group(0)
            for _level in range(levels):
                value = html.escape(value)
            return f'{attribute}="{value}"' if quoted is not None else f"{attribute}=&quot;{value}&quot;"

        return REFERENCE.sub(relative, page)

    def relative_reference(self, reference: str, at: str) -> str:
        """A path on the site (/en/background#x) as a relative link from the file `at` to the copy's file
        for it; anything else (another site, mailto:, #x, already relative) as it is."""
        parts = urlsplit(reference)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            return reference
        relative = posixpath.relpath(self.file_for(parts.path, parts.query, at), posixpath.dirname(at) or ".")
        return relative + (f"#{parts.fragment}" if parts.fragment else "")

    def file_for(self, path: str, query: str, at: str) -> str:
        language = at.split("/", 1)[0] if at.split("/", 1)[0] in SUPPORTED else SUPPORTED[0]
        if path in self.lists:
            cursor = parse_qs(query).get("cursor", [""])[0]
            return list_file(self.lists[path], self.cursor_pages.get(cursor, 1))
        if path in self.files:
            return self.files[path]
        in_language = f"/{language}{path}"  # an address without its language (/background)
        if in_language in self.files or in_language in self.lists:
            return self.file_for(in_language, query, at)
        return f"{language}/{LIVE_PAGE[1]}"  # a page only the live site has


def list_file(language: str, number: int) -> str:
    return f"{language}/signatories/index.html" if number == 1 else f"{language}/signatories/{number}/index.html"


def _write_if_changed(path: Path, content: bytes, report: BuildReport) -> str:
    """Write `content` unless the file holds it already, or differs from it only in the time of the
    copy; the SHA-256 of what the file then holds."""
    try:
        existing: bytes | None = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        existing = None
    if existing is not None and (existing == content or _same_but_for_the_time(existing, content)):
        return hashlib.sha256(existing).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, content)
    report.written += 1
    return hashlib.sha256(content).hexdigest()


def _same_but_for_the_time(existing: bytes, content: bytes) -> bool:
    return MADE_TIME.search(content) is not None and MADE_TIME.sub(b"", existing) == MADE_TIME.sub(b"", content)


def _write_atomically(path: Path, content: bytes) -> None:
    """Readers of a copy being served never see half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def _remove(target: Path, name: str) -> None:
    """Remove a file of the last build, and the folders it leaves empty."""
    path = target / name
    path.unlink(missing_ok=True)
    folder = path.parent
    while folder != target and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def describe(report: BuildReport, target: Any) -> str:
    return (
        f"Copy in {target}: {report.files} files, {report.written} written, {report.removed} removed; "
        f"{report.names:,} names on {report.list_pages:,} list pages per language; "
        f"list SHA-256 {report.list_fingerprint}; {report.seconds:.1f} s."
    )
