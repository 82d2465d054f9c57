"""The session cookie: Flask's signed cookie, its serializer made once per set of keys."""

from petition.signatures import abuse
from tests.support import create_organiser_account, log_in, settings

NEW_KEY = "a-brand-new-key-after-rotation-0123456789"


def organiser_pages_open(client, cookie):
    """Whether the organiser's pages open with this session cookie (a refused cookie is replaced by a
    new session, so each look starts from the cookie given)."""
    client.set_cookie("session", cookie)
    return client.get("/organisers/").status_code == 200


def test_a_session_is_read_with_the_keys_set_now_not_those_of_its_first_request(app, client):
    with app.app_context():
        create_organiser_account()
    log_in(client, "organiser@example.org", "correct horse battery")
    signed_with_old_key = client.get_cookie("session").value
    assert organiser_pages_open(client, signed_with_old_key)
    old_key = app.config["SECRET_KEY"]

    with settings(app, SECRET_KEY=NEW_KEY):
        assert not organiser_pages_open(client, signed_with_old_key), "a key no longer accepted ends the session"
    with settings(app, SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[old_key]):
        assert organiser_pages_open(client, signed_with_old_key), "the old key as a fallback keeps it"
        signed_with_new_key = client.get_cookie("session").value  # saved again, signed with the new key
    assert signed_with_new_key != signed_with_old_key
    with settings(app, SECRET_KEY=NEW_KEY):
        assert organiser_pages_open(client, signed_with_new_key)
    assert not organiser_pages_open(client, signed_with_new_key), "the old key alone does not read the new cookie"


def test_the_forms_start_time_is_read_with_the_keys_set_now(app):
    with app.test_request_context():
        shown = abuse.form_started_token(now=1000.0)
        assert abuse.seconds_to_fill(shown, now=1012.0) == 12.0
        old_key = app.config["SECRET_KEY"]
        with settings(app, SECRET_KEY=NEW_KEY):
            assert abuse.seconds_to_fill(shown, now=1012.0) is None, "forged or signed with a dropped key"
        with settings(app, SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[old_key]):
            assert abuse.seconds_to_fill(shown, now=1012.0) == 12.0


def test_a_forged_or_garbage_session_cookie_gets_a_fresh_form_and_signs_nothing(app, client):
    from sqlalchemy import func, select

    from petition.extensions import db
    from petition.signatures.models import Signature
    from tests.support import signature_form

    for cookie in ("garbage", "eyJjc3JmX3Rva2VuIjoiYWJjIn0.forged.signature", "x" * 3000):
        client.set_cookie("session", cookie)
        assert client.get("/sign").status_code == 200
        client.set_cookie("session", cookie)
        posted = client.post("/sign", data={**signature_form(), "csrf_token": "abc"})
        assert posted.status_code == 422, "the form comes back, with what was typed"
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Signature)).scalar_one() == 0
