"""Requests an opponent of the letter might send: each was tried against the site and must end on a
clear page on this site, never a 500 and never an address elsewhere."""

import re

import pytest

from tests.support import create_organiser_account, csrf_token, log_in

OFF_SITE = [
    "/%09/evil.example",  # a tab: browsers drop it and read //evil.example
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/%5c/evil.example",  # a backslash: browsers read /\ as //
    "/\\evil.example",
    "//evil.example",
    "/%20/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%0a",  # a line break in the Location header gave a 500
    "/%00",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switcher_only_follows_paths_on_this_site(client, target):
    response = client.get(f"/language/en?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/en/"


def test_the_language_switcher_still_follows_a_real_page(client):
    assert (
        client.get("/language/zh?next=/zh/signatories%3Fq%3D%E7%8E%8B").headers["Location"]
        == "/zh/signatories?q=%E7%8E%8B"
    )


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_organiser_login_only_follows_paths_on_this_site(app, client, target):
    with app.app_context():
        email, password = create_organiser_account()
    token = csrf_token(client, "/organisers/login")
    response = client.post(
        f"/organisers/login?next={target}", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisers/"


def alternates(html):
    return re.findall(r'<link rel="alternate" hreflang="[^"]+" href="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/", "/en/", "/zh/sign", "/signatories", "/background"])
def test_a_forged_host_never_reaches_a_page_or_the_cache_other_readers_get(app, client, path):
    from petition.web import page_cache

    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        forged = client.get(path, headers={"Host": "evil.example"}).get_data(as_text=True)
        honest = client.get(path).get_data(as_text=True)
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        page_cache._memory.clear()
    for html in (forged, honest):
        assert "evil.example" not in html
        links = alternates(html)
        assert links and all(link.startswith("https://letter.example.org/") for link in links)


# Every localized page without a token in its address, at its unprefixed and language addresses.
LOCALIZED_PAGES = [
    "/",
    "/en/",
    "/zh/",
    "/en/background",
    "/zh/privacy",
    "/sign",
    "/en/sign",
    "/en/sign/check-your-email",
    "/signatories",
    "/zh/signatories",
    "/en/signatories/growth",
    "/signatories/growth",
    "/en/letter/versions",
    "/zh/thanks",
    "/en/signature/withdrawn",
    "/en/resend",
    "/en/updates.atom",
]


@pytest.mark.parametrize("path", LOCALIZED_PAGES)
def test_a_forged_host_asked_for_in_the_query_never_reaches_a_page_or_the_cache(app, client, path):
    """?_external=1 once made the links a page carries about itself (canonical, og:url, hreflang, the
    language switch) absolute from the Host header, and the page cache kept that page for the next
    readers (300 s for the growth chart)."""
    from petition.web import page_cache

    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        forged = [
            client.get(f"{path}?{query}", headers={"Host": "evil.example"})
            for query in ("_external=1", "_external=1&_scheme=https", "_external=true&_anchor=x")
        ]
        honest = [client.get(path), client.get(f"{path}?_external=1")]
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        page_cache._memory.clear()
    for response in forged + honest:
        assert response.status_code == 200
        assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", LOCALIZED_PAGES)
@pytest.mark.parametrize(
    "query",
    [
        "_method=DELETE",
        "_method=POST",
        "_method=",
        "_external=1&_scheme=javascript",
        "_scheme=javascript",
        "_anchor=%22%3E%3Cscript%3E",
        "_external=1&_scheme=data",
        "lang=xx",
        "next=https%3A%2F%2Fevil.example%2F",
    ],
)
def test_query_arguments_a_page_does_not_know_give_the_normal_page(client, path, query):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "javascript:" not in html and "data:" not in html and "<script>" not in html
    assert "evil.example" not in html


def test_the_language_switch_keeps_the_lists_own_query_arguments(client):
    html = client.get("/en/signatories?group=chinese&q=%E7%8E%8B&_method=DELETE&utm_source=x").get_data(as_text=True)
    [switch] = re.findall(r'href="(/language/zh\?next=[^"]+)"', html)
    target = client.get(switch.replace("&amp;", "&")).headers["Location"]
    assert target.startswith("/zh/signatories?")
    assert "group=chinese" in target and "q=%E7%8E%8B" in target
    assert "_method" not in target and "utm_source" not in target


@pytest.mark.parametrize(
    "host",
    [
        "a" * 64 + ".example",
        "evil example",
        "evil.example/path",
        "a..b",
        "ex@mple",
        "[::1",
        "host:port",
        "-leading.example",
        "é" * 70,
    ],
)
@pytest.mark.parametrize("path", ["/", "/sign", "/api/counts", "/organisers/login", "/healthz", "/no-such-page"])
def test_a_malformed_host_gets_400_on_every_route(client, host, path):
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    assert "could not be understood" in response.get_data(as_text=True) or path == "/api/counts"


@pytest.mark.parametrize(
    "host", ["letter.example.org", "127.0.0.1:8000", "[::1]:5000", "localhost", "xn--bcher-kva.de", "web_1:8000"]
)
def test_ordinary_hosts_are_served(client, host):
    assert client.get("/privacy", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/organisers/signatures/99999999999999999999",
        "/organisers/signatures/9223372036854775808",
        "/organisers/signatures/2147483648",
        "/organisers/signatures/0",
    ],
)
def test_out_of_range_ids_are_not_found(app, client, path):
    with app.app_context():
        email, password = create_organiser_account()
    log_in(client, email, password)
    assert client.get(path).status_code == 404
    token = csrf_token(client, "/organisers/bulk-hide")
    for action in ("hide", "restore", "approve", "delete", "nonsense"):
        assert client.post(f"{path}/{action}", data={"reason": "x", "csrf_token": token}).status_code == 404


@pytest.mark.parametrize("cursor", ["99999999999999999999", "-1", "9223372036854775808", "1e9", "x"])
def test_out_of_range_list_cursors_are_not_a_server_error(client, cursor):
    assert client.get(f"/signatories?cursor={cursor}").status_code in (200, 400, 404)
    assert client.get(f"/api/signatories?cursor={cursor}").status_code in (200, 400, 404)


def test_https_requests_get_strict_transport_security_and_http_does_not(app_factory):
    proxied = app_factory(TRUSTED_PROXIES=1).test_client()
    secure = proxied.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "max-age=" in secure.headers["Strict-Transport-Security"]
    plain = proxied.get("/", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in plain.headers


def test_an_untrusted_forwarded_proto_does_not_turn_on_strict_transport_security(client):
    assert "Strict-Transport-Security" not in client.get("/", headers={"X-Forwarded-Proto": "https"}).headers


def test_pages_deny_powerful_browser_features(client):
    policy = client.get("/").headers["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_forms_posted_over_https_without_a_referrer_are_accepted(app, app_factory):
    """Every page says Referrer-Policy: no-referrer, so a browser on the HTTPS site sends no Referer
    with the forms it posts: the confirm button must still work (and, with it, every other form)."""
    from tests.support import link_in_latest_email, sign_as

    proxied = app_factory(TRUSTED_PROXIES=1).test_client()
    proxied.environ_base.update({"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    assert sign_as(proxied).status_code == 302
    path = link_in_latest_email(app, "ada@example.ac.uk")
    token = csrf_token(proxied, path)
    pressed = proxied.post(path, data={"csrf_token": token})
    assert pressed.status_code == 302, pressed.get_data(as_text=True)
    assert "Referer" not in pressed.request.headers
