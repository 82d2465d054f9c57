"""Several live addresses for one letter: a page reached through an alternate host (ALTERNATE_URLS,
ONION_URL) links within that host, canonical links and the sitemap stay on SITE_URL, any other Host
changes nothing, and every public page tells Tor Browser where the onion service is."""

import re
from html import unescape
from urllib.parse import unquote

import pytest

from petition import links
from petition.config import ConfigurationError
from petition.links import origin_of
from petition.sharing import SERVICES, qr_svg
from tests.support import make_app, settings

SITE = "https://letter.example.org"
ALTERNATE = "https://letter-two.example.net"
ONION = "http://lettervv2hpxmbdifqgdnmm4u5isbhmq6cmhvhzsjidbdhkuibqnsyd.onion"
MIRROR = "https://copies.example-bucket.net/letter/"


@pytest.fixture
def addresses(app):
    with settings(app, ALTERNATE_URLS=[ALTERNATE], ONION_URL=ONION, MIRROR_URLS=[MIRROR]):
        yield


def page(client, path, base=None):
    response = client.get(path, base_url=base) if base else client.get(path)
    assert response.status_code == 200, path
    return response


def attribute(html, pattern):
    found = re.search(pattern, html)
    assert found, pattern
    return unescape(found.group(1))


def canonical(html):
    return attribute(html, r'<link rel="canonical" href="([^"]+)"')


def share_url(html):
    return attribute(html, r'id="share-url" type="url" readonly value="([^"]+)"')


def absolute_origins(html):
    """Every origin an attribute of the page names in full (share services' query strings aside)."""
    return set(re.findall(r'="(https?://[^/"?#]+)', html))


@pytest.mark.usefixtures("addresses")
def test_a_page_reached_through_an_alternate_host_links_within_it_but_names_site_url_as_canonical(client):
    html = page(client, "/en/", ALTERNATE).get_data(as_text=True)
    assert canonical(html) == SITE + "/en/"
    assert attribute(html, r'<meta property="og:url" content="([^"]+)"') == SITE + "/en/"
    assert {href for _, href in re.findall(r'hreflang="([^"]+)" href="([^"]+)"', html)} == {
        SITE + "/en/",
        SITE + "/zh/",
    }
    assert share_url(html) == ALTERNATE + "/en/"
    assert attribute(html, r'<meta property="og:image" content="([^"]+)"').startswith(ALTERNATE + "/static/")
    block = re.search(r'<section class="share".*?</section>', html, re.S).group(0)
    shared = [unquote(unescape(href)) for href in re.findall(r'<a[^>]*\shref="([^"]+)"', block)]
    assert shared and all(ALTERNATE + "/en/" in href and "letter.example.org" not in href for href in shared)
    svg = page(client, "/share/qr-en.svg", ALTERNATE).get_data(as_text=True)
    assert svg == qr_svg(ALTERNATE + "/en/"), "the QR code opens the letter where the reader found it"


@pytest.mark.usefixtures("addresses")
def test_an_unlisted_host_still_gets_site_url_everywhere(client):
    html = page(client, "/en/", "https://evil.example.com").get_data(as_text=True)
    assert "evil.example.com" not in html
    assert canonical(html) == SITE + "/en/" and share_url(html) == SITE + "/en/"
    services = {origin_of(base) for _, base, _ in SERVICES}
    assert absolute_origins(html) <= {SITE, ALTERNATE, ONION, "https://copies.example-bucket.net", *services}
    svg = page(client, "/share/qr-en.svg", "https://evil.example.com").get_data(as_text=True)
    assert svg == qr_svg(SITE + "/en/")


@pytest.mark.usefixtures("addresses")
def test_the_sitemap_and_robots_name_site_url_whatever_the_host(client):
    sitemap = page(client, "/sitemap.xml", ALTERNATE).get_data(as_text=True)
    assert "letter-two" not in sitemap and f"<loc>{SITE}/en/</loc>" in sitemap
    robots = page(client, "/robots.txt", ALTERNATE).get_data(as_text=True)
    assert f"Sitemap: {SITE}/sitemap.xml" in robots


@pytest.mark.usefixtures("addresses")
def test_the_feed_links_within_the_host_and_keeps_its_ids(client):
    feed = page(client, "/en/updates.atom", ALTERNATE).get_data(as_text=True)
    assert f"<id>{SITE}/en/updates.atom</id>" in feed
    assert f'<link rel="self" href="{ALTERNATE}/en/updates.atom"/>' in feed
    assert f'<link rel="alternate" type="text/html" href="{ALTERNATE}/en/"/>' in feed


@pytest.mark.usefixtures("addresses")
def test_the_onion_address_is_an_alternate_too(client):
    html = page(client, "/zh/", ONION).get_data(as_text=True)
    assert share_url(html) == ONION + "/zh/" and canonical(html) == SITE + "/zh/"


def test_the_base_for_a_host(app):
    with settings(app, ALTERNATE_URLS=[ALTERNATE, "http://10.1.2.3:8080/letter"], ONION_URL=ONION):
        with app.app_context():
            assert links.base_for_host("letter-two.example.net") == ALTERNATE
            assert links.base_for_host("LETTER-TWO.example.net:443") == ALTERNATE, "the default port, any case"
            assert links.base_for_host("letter-two.example.net:8443") == SITE, "another port is another host"
            assert links.base_for_host("10.1.2.3:8080") == "http://10.1.2.3:8080/letter"
            assert links.base_for_host(ONION.removeprefix("http://")) == ONION
            assert links.base_for_host("evil.example.com") == SITE
            assert links.base_for_host(None) == SITE
            assert links.link_on("http://10.1.2.3:8080/letter", "public.index", lang="zh") == (
                "http://10.1.2.3:8080/letter/zh/"
            )
        with app.test_request_context("/en/", base_url="http://10.1.2.3:8080/"):
            assert links.request_base() == "http://10.1.2.3:8080/letter"
            assert links.site_link("public.index", lang="en") == SITE + "/en/", "site_link is SITE_URL's, always"
    with app.test_request_context("/en/", base_url=ALTERNATE):
        assert links.request_base() == SITE, "not listed (any more): SITE_URL"


@pytest.mark.usefixtures("addresses")
@pytest.mark.parametrize("path", ["/", "/en/", "/zh/background", "/en/signatories", "/en/letter/versions"])
def test_public_pages_say_where_the_onion_service_is(client, path):
    assert page(client, path).headers["Onion-Location"] == ONION + path


@pytest.mark.usefixtures("addresses")
@pytest.mark.parametrize("path", ["/organisers/login", "/api/counts", "/en/sign/check-your-email"])
def test_private_pages_and_data_do_not_send_onion_location(client, path):
    assert "Onion-Location" not in client.get(path).headers


@pytest.mark.usefixtures("addresses")
def test_no_onion_location_on_the_onion_itself(client):
    assert "Onion-Location" not in page(client, "/en/", ONION).headers


def test_no_onion_location_without_an_onion_address(client):
    assert "Onion-Location" not in page(client, "/en/").headers


@pytest.mark.usefixtures("addresses")
@pytest.mark.parametrize("base", [SITE, ALTERNATE])
def test_the_letter_page_lists_the_other_addresses(client, base):
    html = page(client, "/en/", base).get_data(as_text=True)
    other = re.search(r'<aside class="other-addresses".*?</aside>', html, re.S).group(0)
    assert "If this address does not open, the letter is also at" in other
    hrefs = re.findall(r'href="([^"]+)"', other)
    expected = {SITE + "/en/", ALTERNATE + "/en/", ONION + "/en/", MIRROR + "en/index.html"} - {base + "/en/"}
    assert set(hrefs) == expected


@pytest.mark.usefixtures("addresses")
def test_the_addresses_are_written_out_beside_the_wechat_code(client):
    html = page(client, "/zh/").get_data(as_text=True)
    figure = re.search(r'<figure class="share-qr">.*?</figure>', html, re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", figure)
    for address in (SITE + "/zh/", ALTERNATE + "/zh/", ONION + "/zh/", MIRROR + "zh/index.html"):
        assert address in text
    assert "<a " not in figure.split("<figcaption")[1], "plain text, to copy from a screenshot"


def test_a_single_address_adds_nothing(client):
    html = page(client, "/en/").get_data(as_text=True)
    assert "other-addresses" not in html and "Onion-Location" not in client.get("/en/").headers


def test_the_page_cache_keeps_each_hosts_page_apart(client, app):
    from petition import page_cache

    page_cache._memory.clear()
    with settings(app, ALTERNATE_URLS=[ALTERNATE], PAGE_CACHE_SECONDS=60):
        first = share_url(page(client, "/en/", ALTERNATE).get_data(as_text=True))
        second = share_url(page(client, "/en/").get_data(as_text=True))
    page_cache._memory.clear()
    assert (first, second) == (ALTERNATE + "/en/", SITE + "/en/")


@pytest.mark.parametrize(
    "setting, value",
    [
        ("ALTERNATE_URLS", ["letter-two.example.net"]),
        ("ALTERNATE_URLS", ["ftp://letter-two.example.net"]),
        ("MIRROR_URLS", ["https://"]),
        ("ONION_URL", "https://letter.example.org"),
        ("ONION_URL", "javascript:alert(1)//x.onion"),
    ],
)
def test_a_mistyped_address_stops_the_site_with_a_message(database, setting, value):
    with pytest.raises(ConfigurationError, match=setting):
        make_app(database, **{setting: value})
