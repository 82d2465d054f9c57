"""Emailed links: signed, single-purpose, expiring (confirm), dead once the signature is gone."""
import time

import pytest

from conftest import confirmed_signature
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
