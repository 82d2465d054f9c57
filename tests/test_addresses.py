"""Addresses: throwaway-mail domains refused at signing with a clear message; other spellings of one
mailbox (dots, +tags at providers that ignore them) accepted but shown to organisers as a possible
duplicate."""

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.privacy.addresses import is_disposable, mailbox_key
from petition.signatures.models import Signature
from tests.support import emails_to, sign_and_confirm, sign_as


@pytest.mark.parametrize(
    ("address", "disposable"),
    [
        ("someone@mailinator.com", True),
        ("someone@inbox.mailinator.com", True),
        ("someone@MAILINATOR.COM", True),
        # Spellings that IDNA and NFKC make into the same domain, as the confirmation email does.
        ("someone@ｍａｉｌｉｎａｔｏｒ.com", True),
        ("someone@mailinator。com", True),
        ("someone@mailinator．com", True),
        ("someone@mailinator｡com", True),
        ("someone@inbox。ｍａｉｌｉｎａｔｏｒ．ＣＯＭ", True),
        ("someone@mailinator.com.", True),
        ("someone@ox.ac.uk", False),
        ("someone@gmail.com", False),
        ("someone@com", False),
    ],
)
def test_throwaway_domains_and_their_subdomains_are_known(address, disposable):
    assert is_disposable(address) is disposable


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("a.da+letter@gmail.com", "ada@gmail.com", True),
        ("ada@googlemail.com", "ada@gmail.com", True),
        ("ada+x@outlook.com", "ada@outlook.com", True),
        ("a.da@outlook.com", "ada@outlook.com", False),  # Outlook keeps dots
        ("ada+x@ox.ac.uk", "ada@ox.ac.uk", False),  # a university may not ignore tags
    ],
)
def test_mailbox_keys_join_only_what_the_provider_joins(one, other, same):
    assert (mailbox_key(one) == mailbox_key(other)) is same


def stored(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Signature)).scalar_one()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_throwaway_address_is_refused_beside_the_field_with_everything_kept(client, app, language):
    from tests.support import csrf_token, signature_form

    form = signature_form(email="someone@mailinator.com", name="Kept Name")
    form["csrf_token"] = csrf_token(client, f"/{language}/sign")
    response = client.post(f"/{language}/sign", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-errors"' in html and 'value="Kept Name"' in html
    assert ("mailinator.com" in html) and (("university" in html) if language == "en" else ("大学" in html))
    assert stored(app) == 0


@pytest.mark.parametrize(
    "address",
    [
        "x@ｍａｉｌｉｎａｔｏｒ.com",
        "x@mailinator。com",
        "x@mailinator．com",
        "x@MAILINATOR｡com",
        "x@inbox。mailinator.com",
    ],
)
def test_a_throwaway_domain_in_full_width_letters_or_ideographic_full_stops_is_refused(client, app, address):
    response = sign_as(client, email=address, name="Kept Name")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="email-errors"' in html
    assert "mailinator.com are throwaway addresses" in html
    assert stored(app) == 0
    assert emails_to(app, "x@mailinator.com") == [] and emails_to(app, "x@inbox.mailinator.com") == []


def test_another_spelling_of_one_mailbox_is_accepted_and_shown_to_organisers(client, app, organiser_client):
    sign_and_confirm(client, name="Ada One", email="ada.lovelace@gmail.com")
    assert sign_as(client, name="Ada Two", email="adalovelace+letter@googlemail.com").status_code == 302
    assert stored(app) == 2
    with app.app_context():
        first, second = db.session.execute(select(Signature.id).order_by(Signature.id)).scalars().all()
    dashboard = organiser_client.get("/organisers/").get_data(as_text=True)
    assert dashboard.count("possible duplicate") == 2
    detail = organiser_client.get(f"/organisers/signatures/{second}").get_data(as_text=True)
    assert f'href="/organisers/signatures/{first}"' in detail


def test_different_mailboxes_are_not_called_duplicates(client, organiser_client):
    sign_and_confirm(client, email="ada@outlook.com")
    sign_and_confirm(client, email="a.da@outlook.com")
    assert "possible duplicate" not in organiser_client.get("/organisers/").get_data(as_text=True)
