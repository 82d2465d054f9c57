"""The home page is rendered at most once a second per language; everyone else gets that copy."""

import pytest

from tests.support import confirmed_signature


@pytest.fixture
def caching(app):
    from petition.web import page_cache

    page_cache._memory.clear()
    app.config["PAGE_CACHE_SECONDS"] = 0.5
    yield
    app.config["PAGE_CACHE_SECONDS"] = 0
    page_cache._memory.clear()


def total_on(client, path="/en/"):
    html = client.get(path).get_data(as_text=True)
    return int(html.split('data-count="total">')[1].split("<")[0])


def test_the_home_page_is_reused_briefly_then_shows_the_new_count(client, app, caching, monkeypatch):
    from petition.web import page_cache

    now = [1000.0]
    monkeypatch.setattr(page_cache, "clock", lambda: now[0])
    assert total_on(client) == 0
    with app.app_context():
        confirmed_signature()
    now[0] += 0.4
    assert total_on(client) == 0, "the same page for half a second"
    assert client.get("/api/counts").get_json()["total"] == 1, "the API is always current"
    now[0] += 0.2
    assert total_on(client) == 1


def test_each_language_has_its_own_copy(client, caching):
    assert '<html lang="zh-Hans">' in client.get("/zh/").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/en/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_reused_sign_form_still_gives_each_visitor_their_own_working_token(app, caching):
    from tests.support import csrf_token, signature_form

    visitors = [app.test_client(), app.test_client()]
    tokens = [csrf_token(visitor, "/sign") for visitor in visitors]
    assert tokens[0] != tokens[1]
    for i, (visitor, token) in enumerate(zip(visitors, tokens, strict=True)):
        response = visitor.post("/sign", data={**signature_form(email=f"v{i}@example.org"), "csrf_token": token})
        assert response.status_code == 302
