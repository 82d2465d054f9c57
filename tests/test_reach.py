"""Several live addresses for one letter: a page reached through an alternate host (ALTERNATE_URLS,
ONION_URL) links within that host, canonical links and the sitemap stay on SITE_URL, any other Host
changes nothing, and every public page tells Tor Browser where the onion service is."""

import re
from html import unescape
from urllib.parse import unquote

import pytest

from petition.config import ConfigurationError
from petition.reach.sharing import SERVICES, qr_svg
from petition.web import links
from petition.web.links import origin_of
from tests.support import ADA, CONFIRM_LINK, MANAGE_LINK, make_app, settings, signature_form

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
    from petition.web import page_cache

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


# Emails: a signer's emails link to the address they signed at, and every email lists the others.

ADDRESSES_HEADING = {
    "en": "If the links in this email do not open, the letter is also at:",
    "zh": "如果本邮件中的链接无法打开",
}


def send_form(client, path, base, **form):
    """Fill in and send a form as a browser at `base` does (its cookies are that host's)."""
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page(client, path, base).get_data(as_text=True)
    )
    response = client.post(path, data={**form, "csrf_token": token.group(1)}, base_url=base)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def links_and_listed(text, language="en"):
    """The email's links, and the addresses its closing block lists (as plain text)."""
    body, _, listed = text.partition(ADDRESSES_HEADING[language])
    return re.findall(r"https?://\S+", body), re.findall(r"https?://\S+", listed)


def deliver_all(app):
    from petition.mail.worker import deliver_due

    with app.app_context():
        while deliver_due().sent:
            pass


@pytest.mark.usefixtures("addresses")
def test_a_signature_made_at_an_alternate_address_gets_emails_that_link_there(client, app, smtp_server):
    from sqlalchemy import select

    from petition.extensions import db
    from petition.mail.models import OutgoingEmail

    send_form(client, "/en/sign", ALTERNATE, **signature_form())
    deliver_all(app)
    [confirmation] = smtp_server.messages
    links, listed = links_and_listed(confirmation.text())
    # the confirmation link, the confirm-by-code page, the resend page and the private link
    assert len(links) == 4 and all(link.startswith(ALTERNATE + "/en/") for link in links), links
    assert listed == [SITE + "/en/", ONION + "/en/", MIRROR + "en/index.html"], "the others, as text"
    assert all(
        ALTERNATE in href
        for href in re.findall(r'href="(https?://[^"]+/(?:confirm|signature)/[^"]+)"', confirmation.html())
    )
    with app.app_context():
        kept = db.session.execute(select(OutgoingEmail.signing_details)).scalar_one()
        assert kept is None, "the address the signer used is not kept once the email is written"

    # Following it works, at the alternate address.
    confirm_path = CONFIRM_LINK.search(confirmation.text()).group(1)
    assert press_confirm_at(client, confirm_path, ALTERNATE).status_code == 302
    with app.app_context():
        assert confirmed(ADA["email"])

    # "Send me the link again", and signing again, at the alternate address: the private link is there too.
    smtp_server.messages.clear()
    send_form(client, "/en/resend", ALTERNATE, email=ADA["email"])
    send_form(client, "/en/sign", ALTERNATE, **signature_form(name="Ada again"))
    deliver_all(app)
    assert [m["Subject"] for m in smtp_server.messages] == ["You have already signed the open letter"] * 2
    for message in smtp_server.messages:
        links, _ = links_and_listed(message.text())
        assert links and all(link.startswith(ALTERNATE + "/en/signature/") for link in links), links
        assert page(client, MANAGE_LINK.search(message.text()).group(1), ALTERNATE).status_code == 200


@pytest.mark.usefixtures("addresses")
def test_a_fresh_confirmation_asked_for_at_the_onion_address_links_there(client, app, smtp_server):
    send_form(client, "/zh/sign", SITE, **signature_form(email="wang@example.edu.cn"))
    send_form(client, "/zh/resend", ONION, email="wang@example.edu.cn")
    deliver_all(app)
    first, fresh = smtp_server.messages
    assert links_and_listed(first.text(), "zh")[0][0].startswith(SITE + "/zh/confirm/")
    links, listed = links_and_listed(fresh.text(), "zh")
    assert links and all(link.startswith(ONION + "/zh/") for link in links), links
    assert SITE + "/zh/" in listed and ONION + "/zh/" not in listed
    html = fresh.html()
    assert ONION + "/zh/confirm/" in html and f'href="{ONION}' not in html, "copied into Tor Browser, not followed"
    assert f'href="{SITE}/zh/"' in html


@pytest.mark.usefixtures("addresses")
def test_emails_from_an_unlisted_host_link_to_site_url(client, app, smtp_server):
    send_form(client, "/en/sign", "https://evil.example.com", **signature_form())
    deliver_all(app)
    [confirmation] = smtp_server.messages
    assert "evil.example.com" not in confirmation.raw.decode()
    links, listed = links_and_listed(confirmation.text())
    assert links and all(link.startswith(SITE + "/en/") for link in links)
    assert listed == [ALTERNATE + "/en/", ONION + "/en/", MIRROR + "en/index.html"]


def test_a_base_dropped_from_the_settings_before_the_email_is_written_gives_site_url(client, app, smtp_server):
    with settings(app, ALTERNATE_URLS=[ALTERNATE]):
        send_form(client, "/en/sign", ALTERNATE, **signature_form())
    deliver_all(app)
    [confirmation] = smtp_server.messages
    links, listed = links_and_listed(confirmation.text())
    assert links and all(link.startswith(SITE + "/en/") for link in links) and not listed


@pytest.mark.usefixtures("addresses")
@pytest.mark.parametrize("language", ["en", "zh"])
def test_news_and_notices_link_to_site_url_and_list_the_other_addresses(app, language):
    from datetime import date

    from sqlalchemy import select

    from petition.extensions import db
    from petition.letter import versions
    from petition.letter.models import LetterVersion
    from petition.mail.signer_emails import in_their_languages
    from petition.news import publishing as news
    from petition.organisers.models import Organiser
    from tests.support import confirmed_signature, create_organiser_account

    with app.app_context():
        create_organiser_account()
        organiser = db.session.execute(select(Organiser)).scalar_one()
        reader = confirmed_signature(language=language, wants_updates=True)
        update = news.publish(
            organiser,
            published_on=date(2026, 12, 1),
            titles={"en": "News", "zh": "消息"},
            bodies={"en": "Delivered.", "zh": "已递交。"},
            email=False,
        )
        version = db.session.execute(select(LetterVersion)).scalars().first() or versions.publish("first text")
        bodies = in_their_languages(
            [reader, reader],
            lambda i, s: news.news_email(update, s) if i == 0 else versions.notice_email(version, s, []),
        )
    for row in bodies:
        links, listed = links_and_listed(row["body"], language)
        assert links and all(link.startswith(SITE + f"/{language}/") for link in links), links
        assert listed == [ALTERNATE + f"/{language}/", ONION + f"/{language}/", MIRROR + f"{language}/index.html"]


def test_with_one_address_an_email_lists_nothing_more(client, app, smtp_server):
    send_form(client, "/zh/sign", SITE, **signature_form())
    deliver_all(app)
    [confirmation] = smtp_server.messages
    assert ADDRESSES_HEADING["zh"] not in confirmation.text() and "也可" not in confirmation.text()


def press_confirm_at(client, path, base):
    html = page(client, path, base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post(path, data={"csrf_token": token}, base_url=base)


def confirmed(address):
    from petition.signatures.signing import signature_by_email

    signature = signature_by_email(address)
    return signature is not None and signature.is_confirmed


# The share cards: a picture passed on carries every address, as text to type.

EVERY_KIND = {
    "ALTERNATE_URLS": [ALTERNATE, "http://203.0.113.7"],
    "ONION_URL": ONION,
    "MIRROR_URLS": [MIRROR, "https://letter-copies.oss-cn-hongkong.aliyuncs.com/letter/"],
}


def text_drawn(page, card, plain, boxes):
    """For each box (x, y, width, height) of the picture `card`: how many of its pixels are dark (text
    drawn there), and how many of those are not dark in the picture `plain`. Read by the browser from
    the PNGs themselves."""
    import base64

    sources = [f"data:image/png;base64,{base64.b64encode(png).decode()}" for png in (card, plain)]
    page.set_content("".join(f'<img src="{source}">' for source in sources))
    return page.eval_on_selector_all(
        "img",
        """(images, boxes) => {
            const read = img => {
                const canvas = document.createElement("canvas");
                canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
                const context = canvas.getContext("2d");
                context.drawImage(img, 0, 0);
                return context;
            };
            const [card, plain] = images.map(read);
            return boxes.map(([x, y, w, h]) => {
                const now = card.getImageData(x, y, w, h).data, then = plain.getImageData(x, y, w, h).data;
                let dark = 0, added = 0;
                for (let i = 0; i < now.length; i += 4) {
                    if (now[i] + now[i + 1] + now[i + 2] < 384) {
                        dark++;
                        if (then[i] + then[i + 1] + then[i + 2] >= 384) added++;
                    }
                }
                return [dark, added];
            });
        }""",
        [list(box) for box in boxes],
    )


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_share_card_writes_out_every_address_readably(app, browser, language):
    from petition.reach.share_images import CARD_SIZE, draw_card

    width, height = CARD_SIZE
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        with app.test_request_context():
            plain = draw_card(page, language)
            assert page.query_selector(".addresses") is None, "one address: the card as it was"
            with settings(app, **EVERY_KIND):
                card = draw_card(page, language)
                lines = page.eval_on_selector_all(
                    ".address, .addresses-heading, .sign, h1",
                    """elements => elements.map(e => {
                        const box = e.getBoundingClientRect();
                        return {text: e.innerText, box: [box.x, box.y, box.width, box.height],
                                size: parseFloat(getComputedStyle(e).fontSize)};
                    })""",
                )
        written = [line["text"].split()[0] for line in lines[3:]]
        assert written == [
            f"{SITE}/{language}/",
            f"{ALTERNATE}/{language}/",
            f"http://203.0.113.7/{language}/",
            f"{ONION}/{language}/",
            f"{MIRROR}{language}/index.html",
            f"https://letter-copies.oss-cn-hongkong.aliyuncs.com/letter/{language}/index.html",
        ]
        for line in lines:
            x, y, w, h = line["box"]
            assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, f"{line['text']!r} leaves the card"
            assert line["size"] >= 24, f"{line['text']!r} is too small to read"
        # The picture itself: each address line has text drawn in it, which the plain card has not.
        boxes = [[round(value) for value in line["box"]] for line in lines[3:]]
        for line, (dark, added) in zip(lines[3:], text_drawn(page, card, plain, boxes), strict=True):
            assert dark > 200 and added > 200, f"{line['text']!r} is not drawn: {dark}, {added} new"
    finally:
        page.close()
