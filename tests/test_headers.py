"""Every page loads only from this site: a strict CSP, no inline script or style, no other origin."""

import re
from urllib.parse import urlsplit

import pytest

from petition.reach.sharing import SERVICES
from tests.support import sign_and_confirm

PUBLIC_PAGES = [
    "/",
    "/background",
    "/sign",
    "/sign/check-your-email",
    "/signatories",
    "/thanks",
    "/letter/versions",
    "/privacy",
    "/resend",
    "/organisers/login",
    "/confirm/not-a-token",
    "/no-such-page",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_send_a_self_only_content_security_policy(client, path):
    policy = client.get(path).headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_have_no_inline_script_or_style_and_nothing_from_elsewhere(client, path):
    sign_and_confirm(client)
    html = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    loaded = re.findall(r'\ssrc="([^"]+)"', html) + re.findall(r'<link[^>]*\shref="([^"]+)"', html)
    for url in loaded:
        url = url.removeprefix("https://letter.example.org")  # hreflang alternates name this site (SITE_URL) in full
        assert url.startswith(("/", "#")) and not url.startswith("//"), url
    # Links may lead elsewhere only to share the letter, and only when a reader follows them.
    share_hosts = {urlsplit(base).netloc for _, base, _ in SERVICES}
    for url in re.findall(r'<a[^>]*\shref="([^"]+)"', html):
        url = url.removeprefix("https://letter.example.org")
        assert url.startswith(("/", "#", "mailto:?")) or urlsplit(url).netloc in share_hosts, url


def test_readers_leave_no_referrer_behind(client):
    assert client.get("/").headers["Referrer-Policy"] == "no-referrer"


def test_a_signers_private_pages_are_never_cached_or_indexed(client, app):
    from tests.support import MANAGE_LINK, link_in_latest_email, sign_as

    sign_as(client, email="private@example.org")
    confirm = link_in_latest_email(app, "private@example.org")
    manage = link_in_latest_email(app, "private@example.org", MANAGE_LINK)
    for path in (confirm, manage, manage + "/withdraw", "/confirm/not-a-token"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Robots-Tag"] == "noindex", path


def test_public_pages_may_be_cached_and_say_when_they_vary_by_reader(client):
    negotiated, fixed = client.get("/background"), client.get("/en/background")
    assert "no-store" not in negotiated.headers.get("Cache-Control", "") and "X-Robots-Tag" not in fixed.headers
    assert {"Accept-Language", "Cookie"} <= set(negotiated.vary) and "Accept-Language" not in fixed.vary


def test_a_page_in_the_readers_language_adds_to_the_vary_a_view_set_and_repeats_nothing(app):
    from flask import Response, g

    from petition.web.headers import add_security_headers

    with app.test_request_context("/sign"):
        g.language_negotiated = True
        own = add_security_headers(Response("x", headers={"Vary": "Origin, Cookie"}))
        plain = add_security_headers(Response("x"))
    assert own.headers.getlist("Vary") == ["Origin, Cookie, Accept-Language"]
    assert plain.headers.getlist("Vary") == ["Accept-Language, Cookie"]
