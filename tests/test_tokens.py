"""Emailed links: signed, single-purpose, expiring (confirm), dead once the signature is gone."""

import time

import pytest

from petition.extensions import db
from petition.signatures.signing import sign, withdraw_signature
from petition.signatures.tokens import CONFIRM, MANAGE, LinkExpired, LinkInvalid, make_token, read_token
from tests.support import confirmed_signature

pytestmark = pytest.mark.usefixtures("ctx")


def pending():
    return sign(name="Ada", affiliation="UCL", email="ada@example.org", group="international").signature


def test_a_token_names_its_signature():
    signature = pending()
    assert read_token(make_token(signature, CONFIRM), CONFIRM).id == signature.id
    assert read_token(make_token(signature, MANAGE), MANAGE).id == signature.id


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "x" + t, lambda t: "", lambda t: "not.a.token"],
)
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


def test_a_confirmation_link_expires_after_confirm_max_age_and_works_until_then(app):
    signature, max_age = pending(), app.config["CONFIRM_MAX_AGE"]
    assert read_token(make_token(signature, CONFIRM, made_at=time.time() - max_age + 60), CONFIRM).id == signature.id
    with pytest.raises(LinkExpired):
        read_token(make_token(signature, CONFIRM, made_at=time.time() - max_age - 60), CONFIRM)


def test_a_private_link_never_expires():
    signature = pending()
    old = make_token(signature, MANAGE, made_at=time.time() - 5 * 365 * 86400)
    assert read_token(old, MANAGE).id == signature.id


def test_links_die_with_a_withdrawn_signature():
    signature = confirmed_signature()
    token = make_token(signature, MANAGE)
    withdraw_signature(signature)
    confirmed_signature(email="someone.else@example.org")
    with pytest.raises(LinkInvalid):
        read_token(token, MANAGE)


def test_a_link_carrying_the_right_id_but_an_old_secret_is_refused():
    # Ids are never reused, but the secret still guards the link should a row ever be re-made.
    signature = confirmed_signature()
    forged = make_token(signature, MANAGE)
    signature.secret = "a-different-secret"
    db.session.commit()
    with pytest.raises(LinkInvalid):
        read_token(forged, MANAGE)


def test_a_new_secret_key_with_the_old_one_as_fallback_keeps_every_link_and_session_working(app, app_factory):
    from tests.support import create_organiser_account, log_in

    signature = pending()
    token = make_token(signature, MANAGE)
    old_client = app.test_client()
    create_organiser_account()
    log_in(old_client, "organiser@example.org", "correct horse battery")
    session_cookie = old_client.get_cookie("session").value
    db.session.remove()  # no transaction of this test's own in the way of the other apps' requests

    rotated = app_factory(
        SECRET_KEY="a-brand-new-key-after-rotation-0123456789", SECRET_KEY_FALLBACKS=[app.config["SECRET_KEY"]]
    )
    visitor = rotated.test_client()
    assert visitor.get(f"/signature/{token}").status_code == 200, "the signer's private link still works"
    visitor.set_cookie("session", session_cookie)
    assert visitor.get("/organisers/").status_code == 200, "the organiser is still logged in"

    dropped = app_factory(SECRET_KEY="a-brand-new-key-after-rotation-0123456789")
    assert dropped.test_client().get(f"/signature/{token}").status_code == 404, "without the fallback, old links die"
