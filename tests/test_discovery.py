"""Link previews, robots.txt, the sitemap, the icons and the manifest: what crawlers, chat apps and
phones ask the site for."""

import re
import struct
import xml.etree.ElementTree as ElementTree
from html import unescape
from urllib.parse import urlsplit

import pytest

from tests.support import MANAGE_LINK, link_in_latest_email, sign_as

SITE = "https://letter.example.org"
PUBLIC = ["/", "/background", "/signatories", "/letter/versions", "/sign", "/privacy"]


def meta(html, key):
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return unescape(found.group(1)) if found else None


def fetch(client, path):
    """The response, read and closed (a static file stays open until its response is closed)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("path", PUBLIC)
def test_every_public_page_has_a_link_preview_in_its_language(client, language, path):
    html = client.get(f"/{language}{path}").get_data(as_text=True)
    address = f"{SITE}/{language}{path}"
    assert re.search(rf'<link rel="canonical" href="{re.escape(address)}">', html)
    assert meta(html, "og:url") == address
    assert meta(html, "og:title") and meta(html, "og:description")
    assert meta(html, "og:locale") == {"en": "en_GB", "zh": "zh_CN"}[language]
    assert re.search(r'property="og:locale:alternate" content="(zh_CN|en_GB)"', html)
    assert meta(html, "twitter:card") == "summary_large_image"
    image = meta(html, "og:image")
    assert image.startswith(SITE + "/"), "an absolute address on this site"
    picture = fetch(client, urlsplit(image).path)
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert png_size(picture.get_data()) == (1200, 630)


def test_each_language_has_its_own_preview_picture(client):
    english = meta(client.get("/en/").get_data(as_text=True), "og:image")
    chinese = meta(client.get("/zh/").get_data(as_text=True), "og:image")
    assert english != chinese
    assert fetch(client, urlsplit(english).path).get_data() != fetch(client, urlsplit(chinese).path).get_data()


def test_a_signers_private_page_has_no_preview_carrying_its_address(client, app):
    sign_as(client, email="private@example.org")
    for link in (
        link_in_latest_email(app, "private@example.org"),
        link_in_latest_email(app, "private@example.org", MANAGE_LINK),
    ):
        html = client.get(link).get_data(as_text=True)
        assert 'rel="canonical"' not in html and "og:url" not in html


def test_robots_keep_crawlers_off_private_pages_and_point_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    rules = response.get_data(as_text=True).splitlines()
    for private in ("/organisers/", "/confirm/", "/signature/", "/zh/signature/"):
        assert f"Disallow: {private}" in rules
    assert f"Sitemap: {SITE}/sitemap.xml" in rules


def test_the_sitemap_lists_every_public_page_in_both_languages_with_its_alternates(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    names = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = ElementTree.fromstring(response.get_data()).findall("s:url", names)
    listed = {url.find("s:loc", names).text for url in urls}
    # The list of names is left out unless LIST_INDEXABLE (test_signatories).
    indexed = [path for path in PUBLIC if path != "/signatories"]
    assert listed == {f"{SITE}/{language}{path}" for language in ("en", "zh") for path in indexed}
    for url in urls:
        alternates = {link.get("hreflang"): link.get("href") for link in url.findall("x:link", names)}
        assert set(alternates) == {"en", "zh-Hans"} and url.find("s:loc", names).text in alternates.values()
    for address in listed:
        assert client.get(urlsplit(address).path).status_code == 200, address


def test_the_favicon_is_a_real_icon_file(client):
    response = fetch(client, "/favicon.ico")
    assert response.status_code == 200
    data = response.get_data()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1) and count >= 2, "an ICO directory holding several sizes"


def test_the_manifest_names_the_letter_in_the_readers_language_and_its_icons_exist(client):
    english = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"})
    chinese = client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN"}).get_json()
    assert english.mimetype == "application/manifest+json"
    assert english.get_json()["name"] != chinese["name"] and chinese["lang"] == "zh-Hans"
    for icon in chinese["icons"]:
        picture = fetch(client, icon["src"])
        assert picture.status_code == 200
        assert "{}x{}".format(*png_size(picture.get_data())) == icon["sizes"]
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert png_size(fetch(client, touch).get_data()) == (180, 180)


@pytest.mark.browser
def test_the_share_images_command_redraws_the_cards_and_icons(tmp_path, database):
    import os
    import shutil
    import subprocess
    import sys

    from tests.support import PROJECT_ROOT

    if not (os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")):
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "share", "images", "--out", str(tmp_path)]
    subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "PETITION_ENV": "development", "DATABASE_URL": database},
    )
    written = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert png_size(written["card-en.png"]) == png_size(written["card-zh.png"]) == (1200, 630)
    assert written["card-en.png"] != written["card-zh.png"]
    assert png_size(written["apple-touch-icon.png"]) == (180, 180)
    assert png_size(written["icon-512.png"]) == (512, 512)
    assert struct.unpack("<HHH", written["favicon.ico"][:6]) == (0, 1, 3)
