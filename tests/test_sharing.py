"""Passing the letter on: the thank-you page, share links in the reader's language, the QR code."""

import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from petition.reach.sharing import SERVICES
from tests.support import link_in_latest_email, press_confirm, sign_as

LETTER = {"en": "https://letter.example.org/en/", "zh": "https://letter.example.org/zh/"}


def share_hrefs(html):
    block = re.search(r'<section class="share".*?</section>', html, re.S).group(0)
    return [unescape(href) for href in re.findall(r'<a[^>]*\shref="([^"]+)"', block)]


def test_confirming_ends_on_a_thank_you_page_whose_address_holds_no_secret(client, app):
    sign_as(client, email="sam@example.ac.uk")
    confirmed = press_confirm(client, link_in_latest_email(app, "sam@example.ac.uk"))
    address = confirmed.headers["Location"]
    assert urlsplit(address).path == "/en/thanks"
    page = client.get(address).get_data(as_text=True)
    assert "now counts" in page
    assert 'data-count="total">1<' in page, "the count includes the new signature"
    assert 'id="share-url"' in page and "/signature/" not in page and "/confirm/" not in page


def test_the_thank_you_page_says_when_the_organisers_hold_a_signature_back(client, app, organiser_client):
    from sqlalchemy import select

    from petition.extensions import db
    from petition.signatures.models import Signature
    from tests.support import csrf_token

    sign_as(client, email="held@example.org")
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    path = f"/organisers/signatures/{signature_id}"
    organiser_client.post(path + "/hide", data={"reason": "checking", "csrf_token": csrf_token(organiser_client, path)})
    confirmed = press_confirm(client, link_in_latest_email(app, "held@example.org"))
    page = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "reviewing" in page and "now counts" not in page


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("path", ["/{language}/", "/{language}/thanks"])
def test_every_share_link_carries_the_letters_address_in_the_readers_language(client, language, path):
    hrefs = share_hrefs(client.get(path.format(language=language)).get_data(as_text=True))
    services = {urlsplit(base).netloc: name for name, base, _ in SERVICES}
    seen = set()
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme == "mailto":
            fields = {key: unquote(value) for key, value in (pair.split("=", 1) for pair in parts.query.split("&"))}
            assert LETTER[language] in fields["body"] and fields["subject"]
            seen.add("email")
        else:
            fields = " ".join(value for values in parse_qs(parts.query).values() for value in values)
            assert LETTER[language] in fields, href
            seen.add(services[parts.netloc])
    assert seen == {"email", *services.values()}


def test_the_email_to_share_is_written_in_the_readers_language(client):
    english = next(h for h in share_hrefs(client.get("/en/").get_data(as_text=True)) if h.startswith("mailto:"))
    chinese = next(h for h in share_hrefs(client.get("/zh/").get_data(as_text=True)) if h.startswith("mailto:"))
    assert re.search(r"[\u4e00-\u9fff]", unquote(chinese)) and not re.search(r"[\u4e00-\u9fff]", unquote(english))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_qr_code_is_an_svg_made_by_the_site(client, language):
    response = client.get(f"/share/qr-{language}.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and "href" not in svg and "<script" not in svg
    page = client.get(f"/{language}/").get_data(as_text=True)
    assert f'src="/share/qr-{language}.svg"' in page, "the page shows the code of its own language"


def test_only_the_two_languages_have_a_qr_code(client):
    assert client.get("/share/qr-fr.svg").status_code == 404
