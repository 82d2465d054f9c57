"""Journeys through the site as a scholar takes them: sign, confirm, correct, withdraw."""
import re

from conftest import (MANAGE_LINK, csrf_token, emails_to, link_in_latest_email, press_confirm, sign_and_confirm,
                      sign_as)
from petition.counts import current_counts


def counts(app):
    with app.app_context():
        return current_counts()


def test_sam_signs_opens_the_link_and_only_pressing_the_button_confirms(client, app):
    sign_as(client, name="Sam Scholar", email="sam@example.ac.uk")
    link = link_in_latest_email(app, "sam@example.ac.uk")
    page = client.get(link)  # what an institution's link scanner does
    assert page.status_code == 200 and "Confirm my signature" in page.get_data(as_text=True)
    assert counts(app).total == 0
    assert "Sam Scholar" not in client.get("/signatories").get_data(as_text=True)

    confirmed = press_confirm(client, link)
    assert confirmed.status_code == 302 and "/signature/" in confirmed.headers["Location"]
    assert "Your signature is confirmed" in client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert counts(app).total == 1
    assert "Sam Scholar" in client.get("/signatories").get_data(as_text=True)
    assert "already confirmed" in client.get(link).get_data(as_text=True)


def test_confirming_needs_the_form_token(client, app):
    sign_as(client, email="sam@example.ac.uk")
    response = client.post(link_in_latest_email(app, "sam@example.ac.uk"))
    assert response.status_code == 400
    assert counts(app).total == 0


def test_a_tampered_or_expired_link_gets_a_clear_page_with_a_way_to_resend(client, app):
    sign_as(client, email="sam@example.ac.uk")
    link = link_in_latest_email(app, "sam@example.ac.uk")
    tampered = client.get(link[:-3] + "xyz")
    assert tampered.status_code == 404
    assert "This link does not work" in tampered.get_data(as_text=True) and 'action="/en/resend"' in tampered.get_data(as_text=True)
    app.config["CONFIRM_MAX_AGE"] = -1  # every link is now older than allowed
    try:
        expired = client.get(link)
    finally:
        app.config["CONFIRM_MAX_AGE"] = 7 * 24 * 3600
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)


def test_asking_for_the_email_again_sends_a_fresh_link_and_looks_the_same_for_anyone(client, app):
    sign_as(client, email="sam@example.ac.uk")
    known = client.post("/resend", data={"email": "SAM@example.ac.uk", "csrf_token": csrf_token(client, "/resend")})
    unknown = client.post("/resend", data={"email": "stranger@example.org", "csrf_token": csrf_token(client, "/resend")})
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert len(emails_to(app, "sam@example.ac.uk")) == 2
    assert emails_to(app, "stranger@example.org") == []
    press_confirm(client, link_in_latest_email(app, "sam@example.ac.uk"))
    assert counts(app).total == 1


def test_signing_again_looks_exactly_like_signing_first_and_the_owner_is_told_by_email(client, app):
    sign_and_confirm(client, name="Sam Scholar", email="sam@example.ac.uk")
    first = sign_as(client, name="New Person", email="new@example.org")
    again = sign_as(client, name="Impostor", email="Sam@Example.ac.uk")
    assert (first.status_code, first.headers["Location"]) == (again.status_code, again.headers["Location"])
    assert first.get_data() == again.get_data()
    page_after_first = client.get(first.headers["Location"]).get_data()
    assert page_after_first == client.get(again.headers["Location"]).get_data()

    notice = emails_to(app, "sam@example.ac.uk")[-1]
    assert "already signed" in notice.body and "/signature/" in notice.body
    assert counts(app).total == 1
    assert "Impostor" not in client.get("/signatories").get_data(as_text=True)


def test_signing_again_before_confirming_sends_a_fresh_confirmation_link(client, app):
    sign_as(client, email="sam@example.ac.uk")
    sign_as(client, email="sam@example.ac.uk")
    emails = emails_to(app, "sam@example.ac.uk")
    assert len(emails) == 2 and "/confirm/" in emails[1].body
    press_confirm(client, link_in_latest_email(app, "sam@example.ac.uk"))
    assert counts(app).total == 1


def manage_link(app, address):
    return link_in_latest_email(app, address, MANAGE_LINK)


def test_a_signer_corrects_their_details_with_the_private_link(client, app):
    sign_and_confirm(client, name="Sam Scolar", affiliation="Uni", email="sam@example.ac.uk", group="international")
    link = manage_link(app, "sam@example.ac.uk")
    form = {"name": "Sam Scholar", "affiliation": "University of Leeds", "group": "chinese",
            "csrf_token": csrf_token(client, link)}  # "listed" left unticked
    assert client.post(link, data=form).status_code == 302
    listing = client.get("/signatories").get_data(as_text=True)
    assert "Sam Scolar" not in listing and "Sam Scholar" not in listing
    assert (counts(app).chinese, counts(app).unlisted_chinese, counts(app).international) == (1, 1, 0)


def test_a_correction_with_a_mistake_keeps_the_old_details_and_says_why(client, app):
    sign_and_confirm(client, name="Sam Scholar", email="sam@example.ac.uk")
    link = manage_link(app, "sam@example.ac.uk")
    response = client.post(link, data={"name": "", "affiliation": "U", "group": "international", "listed": "y",
                                       "csrf_token": csrf_token(client, link)})
    assert response.status_code == 422 and "Enter your name." in response.get_data(as_text=True)
    assert "Sam Scholar" in client.get("/signatories").get_data(as_text=True)


def test_withdrawing_deletes_the_personal_data_and_the_counts_drop_at_once(client, app):
    sign_and_confirm(client, name="Sam Scholar", affiliation="Secret Institute", email="sam@example.ac.uk")
    link = manage_link(app, "sam@example.ac.uk")
    assert counts(app).total == 1
    withdraw_page = link + "/withdraw"
    assert "cannot be undone" in client.get(withdraw_page).get_data(as_text=True)
    response = client.post(withdraw_page, data={"csrf_token": csrf_token(client, withdraw_page)})
    assert response.headers["Location"].endswith("/signature/withdrawn")
    assert counts(app).total == 0
    assert emails_to(app, "sam@example.ac.uk") == []
    from sqlalchemy import text

    from petition.extensions import db

    with app.app_context():
        for table, column in (("signatures", "email"), ("signatures", "name"), ("outgoing_emails", "to_address")):
            assert db.session.execute(text(f"SELECT count(*) FROM {table} WHERE {column} LIKE '%Sam%' OR {column} LIKE '%sam@%'")).scalar_one() == 0
    assert client.get(link).status_code == 404
    assert re.search("This link does not work", client.get(link).get_data(as_text=True))
