"""The JSON API: counts and the public list."""

import re

from tests.support import confirmed_signature, sign_and_confirm, sign_as


def test_counts_split_by_group(client):
    sign_and_confirm(client, email="a@example.org", group="international")
    sign_and_confirm(client, email="b@example.org", group="chinese")
    sign_and_confirm(client, email="c@example.org", group="chinese", listed=None)
    sign_as(client, email="pending@example.org", group="chinese")  # not confirmed: not counted
    data = client.get("/api/counts").get_json()
    assert (data["international"], data["chinese"], data["total"]) == (1, 2, 3)


def test_signatories_have_public_fields_only(client):
    sign_and_confirm(client, name="王小明", affiliation="中山大学", email="wang@example.edu.cn", group="chinese")
    response = client.get("/api/signatories")
    assert response.content_type == "application/json"
    data = response.get_json()
    assert data["next"] is None
    [entry] = data["signatories"]
    assert set(entry) == {"name", "affiliation", "group", "signed_on"}
    assert (entry["name"], entry["affiliation"], entry["group"]) == ("王小明", "中山大学", "chinese")
    # The day only: a time of day could be lined up with other traces of the signer.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["signed_on"])
    assert "example.edu.cn" not in response.get_data(as_text=True)


def test_signatories_filters_and_cursor(client, app):
    for i in range(3):
        sign_and_confirm(client, name=f"Intl {i}", email=f"i{i}@example.org", group="international")
    sign_and_confirm(client, name="Chn", email="c@example.org", group="chinese")
    assert [s["name"] for s in client.get("/api/signatories?group=chinese").get_json()["signatories"]] == ["Chn"]
    assert [s["name"] for s in client.get("/api/signatories?q=intl 1").get_json()["signatories"]] == ["Intl 1"]


def test_signatories_cursor_walks_the_whole_list(client, app):
    with app.app_context():
        for i in range(205):
            confirmed_signature(name=f"P{i}", affiliation="U", email=f"p{i}@example.org", group="international")
    names, url = [], "/api/signatories"
    while url:
        data = client.get(url).get_json()
        assert len(data["signatories"]) <= 100
        names += [s["name"] for s in data["signatories"]]
        url = f"/api/signatories?cursor={data['next']}" if data["next"] else None
    assert names == [f"P{i}" for i in range(205)]


def test_counts_can_be_cached_briefly_and_revalidated(client):
    first = client.get("/api/counts")
    assert "max-age=2" in first.headers["Cache-Control"] and "stale-while-revalidate" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    assert client.get("/api/counts", headers={"If-None-Match": etag}).status_code == 304
    sign_and_confirm(client, email="new@example.org")
    changed = client.get("/api/counts", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["total"] == 1


def test_health_check_says_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}


def test_health_check_fails_when_the_database_does_not_answer(app_factory, tmp_path):
    broken = app_factory(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"
