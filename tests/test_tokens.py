"""Emailed links: signed, single-purpose, expiring (confirm), dead once the signature is gone."""
import time

import pytest

from tests.support import confirmed_signature
from petition.extensions import db
from petition.signing import sign, withdraw_signature
from petition.tokens import CONFIRM, MANAGE, LinkExpired, LinkInvalid, make_token, read_token

pytestmark = pytest.mark.usefixtures("ctx")


def pending():
    return sign(name="Ada", affiliation="UCL", email="ada@example.org", group="international").signature


def test_a_token_names_its_signature():
    signature = pending()
    assert read_token(make_token(signature, CONFIRM), CONFIRM).id == signature.id
    assert read_token(make_token(signature, MANAGE), MANAGE).id == signature.id


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "x" + t,
                                    lambda t: "", lambda t: "not.a.token"])
def test_a_tampered_token_is_refused(mangle):
    token = make_token(pending(), CONFIRM)
    with pytest.raises(LinkInvalid):
        read_token(mangle(token), CONFIRM)


def test_a_token_for_one_purpose_does_not_work_for_the_other():
    signature = pending()
    with pytest.raises(LinkInvalid):
        read_token(make_token(signature, CONFIRM), MANAGE)
    with pytest.raises(LinkInvalid):
        read_token(make_token(signature, MANAGE), CONFIRM)


def test_a_confirmation_token_expires(app):
    token = make_token(pending(), CONFIRM)
    app.config["CONFIRM_MAX_AGE"] = 1
    try:
        time.sleep(2.1)
        with pytest.raises(LinkExpired):
            read_token(token, CONFIRM)
    finally:
        app.config["CONFIRM_MAX_AGE"] = 7 * 24 * 3600


def test_links_die_with_a_withdrawn_signature_even_if_its_id_is_reused():
    signature = confirmed_signature()
    token = make_token(signature, MANAGE)
    withdraw_signature(signature)
    newcomer = confirmed_signature(email="someone.else@example.org")
    with pytest.raises(LinkInvalid):
        read_token(token, MANAGE)
    assert newcomer.id


def test_a_new_secret_key_with_the_old_one_as_fallback_keeps_every_link_and_session_working(app, app_factory):
    from tests.support import create_organiser_account, log_in

    signature = pending()
    token = make_token(signature, MANAGE)
    old_client = app.test_client()
    create_organiser_account()
    log_in(old_client, "organiser@example.org", "correct horse battery")
    session_cookie = old_client.get_cookie("session").value
    db.session.remove()  # no transaction of this test's own in the way of the other apps' requests

    rotated = app_factory(SECRET_KEY="a-brand-new-key-after-rotation-0123456789", SECRET_KEY_FALLBACKS=[app.config["SECRET_KEY"]])
    visitor = rotated.test_client()
    assert visitor.get(f"/signature/{token}").status_code == 200, "the signer's private link still works"
    visitor.set_cookie("session", session_cookie)
    assert visitor.get("/organisers/").status_code == 200, "the organiser is still logged in"

    dropped = app_factory(SECRET_KEY="a-brand-new-key-after-rotation-0123456789")
    assert dropped.test_client().get(f"/signature/{token}").status_code == 404, "without the fallback, old links die"
