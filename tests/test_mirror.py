"""A static copy of the public site (flask mirror build DIR), served by a plain HTTP server under a path
prefix on another port, and crawled: every link resolves, both languages are there, nothing private
or held back is in any file, and a second build rewrites only what changed."""

import functools
import hashlib
import json
import re
import threading
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from sqlalchemy import select

from petition.delivery import copy
from petition.extensions import db
from petition.letter import closing, versions
from petition.news import publishing as news
from petition.organisers.models import Organiser
from petition.reach import mirror
from petition.reach.mirror import MirrorError, build
from petition.signatories.counts import current_counts
from petition.signatures import moderation
from petition.signatures.models import Signature
from petition.signatures.signing import sign
from tests.support import confirmed_signature, create_organiser_account, settings

SITE = "https://letter.example.org"
ALTERNATE = "https://letter-two.example.net"
ONION = "http://lettervv2hpxmbdifqgdnmm4u5isbhmq6cmhvhzsjidbdhkuibqnsyd.onion"
COPY = "https://copies.example-bucket.net/letter/"
LIVE = (SITE, ALTERNATE, ONION, COPY)

LISTED = ["Ada Listed", "王小明", "Grace Listed", "Emmy Listed", "张伟", "Lise Listed", "Marie Listed"]
HELD_BACK = {
    "Uma Unlisted": "asked not to be named",
    "Rui Under Review": "waits for an organiser",
    "Hal Hidden": "hidden by an organiser",
    "Pat Pending": "never confirmed",
    "Bob Bot": "flagged as a bot",
}
TEXT_FILES = (".html", ".atom", ".json", ".svg", ".css", ".js")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def address_of(name):
    return re.sub(r"\W", "", name.encode("unicode_escape").decode()).lower() + "@example.org"


@pytest.fixture
def site(app):
    """The copy's settings: three names a page, every kind of address."""
    with settings(app, SIGNATORIES_PER_PAGE=3, ALTERNATE_URLS=[ALTERNATE], ONION_URL=ONION, MIRROR_URLS=[COPY]):
        yield app


@pytest.fixture
def seeded(site):
    """A published letter, news, listed names in both groups, and every kind of name that must never
    be in a copy."""
    with site.app_context():
        create_organiser_account()
        organiser = db.session.execute(select(Organiser)).scalar_one()
        versions.publish("First publication")
        news.publish(
            organiser,
            published_on=date(2026, 12, 1),
            titles={"en": "Delivered", "zh": "已递交"},
            bodies={"en": "See [the background](/en/background).", "zh": "请看[背景介绍](/zh/background)。"},
            email=False,
        )
        db.session.commit()
        for i, name in enumerate(LISTED):
            group = "chinese" if re.search(r"[\u4e00-\u9fff]", name) else "international"
            confirmed_signature(name=name, affiliation=f"University {i}", email=address_of(name), group=group)
        confirmed_signature(name="Uma Unlisted", email=address_of("Uma Unlisted"), listed=False)
        with settings(site, LIST_REVIEW="all"):
            confirmed_signature(name="Rui Under Review", email=address_of("Rui Under Review"))
        hidden = confirmed_signature(name="Hal Hidden", email=address_of("Hal Hidden"))
        moderation.hide(hidden, organiser, "a joke")
        sign(name="Pat Pending", affiliation="U", email=address_of("Pat Pending"), group="international")
        sign(name="Bob Bot", affiliation="U", email=address_of("Bob Bot"), group="international", suspected_bot=True)
        db.session.commit()
        counts = current_counts()
        fingerprint = copy.delivery_copy("en").list_fingerprint
        db.session.rollback()
    assert counts.total == len(LISTED) + 2  # the unlisted and the one under review count
    return {"counts": counts, "fingerprint": fingerprint}


def build_copy(app, out, made_at=None):
    with app.app_context():
        return build(out, made_at=made_at)


@pytest.fixture
def served(tmp_path):
    """A plain static-file server on another port; the copy goes under /bucket/letter/."""
    root = tmp_path / "www"
    folder = root / "bucket" / "letter"
    folder.parent.mkdir(parents=True)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/bucket/letter/"
    server.shutdown()
    server.server_close()


class References(HTMLParser):
    """Every (tag, attribute, value) that names another resource."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action", "srcset", "data-counts-url") and value is not None:
                self.found.append((tag, name, value))


def references(html):
    parser = References()
    parser.feed(html)
    return parser.found


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def files_of(folder):
    return sorted(path for path in folder.rglob("*") if path.is_file())


def total_on(html):
    return int(re.search(r'data-count="total">([\d,]+)<', html).group(1).replace(",", ""))


def test_the_copy_is_the_site_with_every_link_relative_and_nothing_held_back(seeded, site, served, runner):
    folder, base = served
    result = runner.invoke(args=["mirror", "build", str(folder)])
    assert result.exit_code == 0, result.output
    assert "files" in result.output and seeded["fingerprint"][:16] in result.output

    pages = [path for path in files_of(folder) if path.suffix == ".html"]
    checked, elsewhere = {}, set()
    for path in pages:
        relative = path.relative_to(folder).as_posix()
        html = path.read_text(encoding="utf-8")
        assert "<form" not in html, f"{relative}: a copy posts nothing"
        assert 'class="mirror-made"' in html and f'href="{SITE}/' in html, f"{relative} says it is a copy"
        for tag, attribute, value in references(html):
            assert attribute in ("href", "src"), (relative, tag, attribute)
            if value.startswith(("#", "mailto:")):
                continue
            if urlsplit(value).scheme or value.startswith("//"):
                # Another origin only as a plain link, and only to the letter's own addresses.
                assert tag == "a" and value.startswith(LIVE), (relative, tag, value)
                elsewhere.add(value)
                continue
            target = urldefrag(urljoin(base + relative, value)).url
            assert target.startswith(base), (relative, value)
            # Opened from a folder on a USB stick (file://) a link must name a file, not a folder.
            assert (folder / target[len(base) :]).is_file(), (relative, value)
            if target not in checked:
                checked[target] = fetch(target)[0]
            assert checked[target] == 200, (relative, value)
    assert {SITE + "/en/sign", COPY + "en/index.html", ONION + "/zh/"} <= elsewhere

    # Both languages, from the first page of the copy.
    status, root = fetch(base)
    assert status == 200 and b'href="en/index.html"' in root and b'href="zh/index.html"' in root
    english = fetch(base + "en/index.html")[1].decode()
    chinese = fetch(base + "zh/index.html")[1].decode()
    assert '<html lang="en">' in english and '<html lang="zh-Hans">' in chinese
    assert "关于广东劳工NGO的公开信" in chinese and "Delivered" in english and "已递交" in chinese

    # The counts as of the build, and the list as the live one shows it, page after page.
    assert total_on(english) == total_on(chinese) == seeded["counts"].total
    for language in ("en", "zh"):
        names, url = [], base + f"{language}/signatories/index.html"
        while url:
            html = fetch(url)[1].decode()
            names += re.findall(r'<span class="signatory-name">([^<]+)</span>', html)
            following = re.search(r'rel="next" href="([^"]+)"', html)
            url = urljoin(url, following.group(1)) if following else None
        assert names == LISTED

    everything = b"".join(path.read_bytes() for path in files_of(folder))
    for name, why in HELD_BACK.items():
        assert name.encode() not in everything, f"{name} ({why}) is in the copy"
    for name in [*LISTED, *HELD_BACK]:
        assert address_of(name).encode() not in everything
    for private in (b"/confirm/", b"/signature/", b"/organisers"):
        assert private not in everything
    for path in files_of(folder):
        if path.suffix in TEXT_FILES:
            assert not EMAIL.search(path.read_text(encoding="utf-8")), f"an email address in {path}"

    # The feeds, the codes, the pictures and the files the pages need are in it.
    for name in ("en/updates.atom", "zh/updates.atom", "share/qr-en.svg", "share/qr-zh.svg", "favicon.ico"):
        assert fetch(base + name)[0] == 200, name
    feed = fetch(base + "zh/updates.atom")[1].decode()
    assert '<link rel="alternate" type="text/html" href="index.html"/>' in feed
    assert f"<id>{SITE}/zh/updates.atom</id>" in feed
    assert list(folder.glob("static/share/card-en*.png")) and list(folder.glob("static/css/site*.css"))


def test_the_manifest_lists_every_file_with_its_sha256_and_the_lists_fingerprint(seeded, site, tmp_path):
    out = tmp_path / "copy"
    build_copy(site, out)
    manifest = json.loads((out / "manifest.json").read_text())
    on_disk = {path.relative_to(out).as_posix() for path in files_of(out)} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert manifest["list_fingerprint"] == seeded["fingerprint"]
    assert manifest["counts"]["total"] == seeded["counts"].total
    assert manifest["site_url"] == SITE and manifest["copies"] == [COPY]
    assert manifest["live"] == [SITE, ALTERNATE, ONION]
    with site.app_context():
        assert manifest["letter_sha256"] == {"en": versions.current().sha256_en, "zh": versions.current().sha256_zh}


def test_building_again_rewrites_only_what_changed(seeded, site, tmp_path):
    out = tmp_path / "copy"
    made = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    first = build_copy(site, out, made)
    assert first.written == first.files > 20 and first.removed == 0
    unchanged = out / "en" / "background" / "index.html"
    before = (unchanged.read_bytes(), unchanged.stat().st_mtime_ns)

    again = build_copy(site, out, made + timedelta(minutes=10))
    assert again.written == 0 and again.files == first.files, "only the time would change: nothing is written"

    with site.app_context():
        confirmed_signature(name="Nia Newcomer", email="nia@example.org")
    after_one = build_copy(site, out, made + timedelta(minutes=20))
    # The letter's counts, the list's first page (counts) and its last, the chart, in each language.
    assert 0 < after_one.written <= 10, after_one
    assert (unchanged.read_bytes(), unchanged.stat().st_mtime_ns) == before
    assert "6 December 2026 09:00 UTC" in unchanged.read_text(), "the page says when its copy was made"
    english = (out / "en" / "index.html").read_text()
    assert total_on(english) == seeded["counts"].total + 1 and "6 December 2026 09:20 UTC" in english
    assert "Nia Newcomer" in (out / "en" / "signatories" / "3" / "index.html").read_text()


def test_a_name_held_back_after_a_build_leaves_the_copy_and_so_do_pages_no_longer_needed(seeded, site, tmp_path):
    out = tmp_path / "copy"
    build_copy(site, out)
    assert (out / "zh" / "signatories" / "3" / "index.html").exists()
    with site.app_context():
        organiser = db.session.execute(select(Organiser)).scalar_one()
        signature = db.session.execute(select(Signature).where(Signature.name == "Marie Listed")).scalar_one()
        moderation.hide(signature, organiser, "asked by the signer")
        db.session.commit()
    report = build_copy(site, out)
    assert report.removed == 2  # the third list page, in each language
    assert not (out / "zh" / "signatories" / "3").exists()
    everything = b"".join(path.read_bytes() for path in files_of(out))
    assert b"Marie Listed" not in everything
    assert "signatories/3/index.html" not in (out / "manifest.json").read_text()


def test_the_files_of_a_build_that_failed_are_removed_by_the_next_one(seeded, site, tmp_path, monkeypatch):
    out = tmp_path / "copy"
    build_copy(site, out)
    with site.app_context():
        for i in range(3):
            confirmed_signature(name=f"Late Signer {i}", email=f"late{i}@example.org")
    make_everything = mirror._Maker.make_everything

    def then_fail(maker):
        make_everything(maker)
        raise OSError("the disk is full")

    monkeypatch.setattr(mirror._Maker, "make_everything", then_fail)
    with pytest.raises(OSError):
        build_copy(site, out)
    monkeypatch.undo()
    fourth = out / "en" / "signatories" / "4" / "index.html"
    assert "Late Signer 2" in fourth.read_text()
    assert json.loads((out / "manifest.json").read_text())["incomplete"] is True

    with site.app_context():
        organiser = db.session.execute(select(Organiser)).scalar_one()
        for signature in db.session.execute(select(Signature).where(Signature.name.like("Late Signer%"))).scalars():
            moderation.hide(signature, organiser, "not scholars")
        db.session.commit()
    build_copy(site, out)
    assert not fourth.exists() and not (out / "zh" / "signatories" / "4").exists()
    assert b"Late Signer" not in b"".join(path.read_bytes() for path in files_of(out))


def test_a_copy_of_a_closed_letter_says_it_is_closed(seeded, site, tmp_path):
    with site.app_context():
        closing.close(db.session.execute(select(Organiser)).scalar_one(), "delivered")
        db.session.commit()
    out = tmp_path / "copy"
    build_copy(site, out)
    letter = (out / "en" / "index.html").read_text()
    assert "Signing closed on" in letter and 'href="sign/index.html"' not in letter
    assert "联署已于" in (out / "zh" / "sign" / "index.html").read_text()


def test_the_list_limit_is_for_readers_not_for_the_copys_own_walk_of_the_list(seeded, site, tmp_path, client):
    with settings(site, LIST_LIMIT_PER_IP="2 per minute"):
        report = build_copy(site, tmp_path / "copy")
        assert report.list_pages == 3 and report.names == len(LISTED)
        assert [client.get("/en/signatories").status_code for _ in range(3)] == [200, 200, 429]


def test_a_folder_that_is_not_a_copy_is_left_alone(site, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(MirrorError, match=r"manifest\.json"):
        build_copy(site, tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_the_command_says_what_it_did(site, tmp_path, runner):
    out = tmp_path / "copy"
    first = runner.invoke(args=["mirror", "build", str(out)])
    again = runner.invoke(args=["mirror", "build", str(out)])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert re.search(r"\d+ files, \d+ written", first.output)
    assert ", 0 written" in again.output
    refused = runner.invoke(args=["mirror", "build", str(Path(__file__).parent)])
    assert refused.exit_code != 0 and "manifest.json" in refused.output
