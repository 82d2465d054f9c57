"""Journeys through the site as a scholar takes them: sign, confirm, correct, withdraw."""

import re

from petition.signatories.counts import current_counts
from tests.support import (
    MANAGE_LINK,
    csrf_token,
    emails_to,
    link_in_latest_email,
    press_confirm,
    sign_and_confirm,
    sign_as,
)


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
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/thanks")
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
    assert "This link does not work" in tampered.get_data(as_text=True) and 'action="/en/resend"' in tampered.get_data(
        as_text=True
    )
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
    unknown = client.post(
        "/resend", data={"email": "stranger@example.org", "csrf_token": csrf_token(client, "/resend")}
    )
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert len(emails_to(app, "sam@example.ac.uk")) == 2
    assert emails_to(app, "stranger@example.org") == []
    press_confirm(client, link_in_latest_email(app, "sam@example.ac.uk"))
    assert counts(app).total == 1


def without(page, typed):
    """A page with what its signer typed, and the form's token and start time, replaced by placeholders."""
    for text, placeholder in typed.items():
        page = page.replace(text, placeholder)
    page = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "TOKEN", page)  # signed with the time
    return re.sub(r'name="started" type="hidden" value="[^"]*"', "STARTED", page)


def test_signing_again_looks_exactly_like_signing_first_and_the_owner_is_told_by_email(client, app):
    sign_and_confirm(client, name="Sam Scholar", email="sam@example.ac.uk")
    first = sign_as(client, name="New Person", email="new@example.org")
    page_after_first = client.get(first.headers["Location"]).get_data(as_text=True)
    again = sign_as(client, name="Impostor", email="Sam@Example.ac.uk")
    page_after_again = client.get(again.headers["Location"]).get_data(as_text=True)
    assert (first.status_code, first.headers["Location"]) == (again.status_code, again.headers["Location"])
    assert first.get_data() == again.get_data()
    # The page after signing echoes what its signer typed, and nothing else differs.
    typed = {"New Person": "NAME", "new@example.org": "EMAIL", "Impostor": "NAME", "Sam@Example.ac.uk": "EMAIL"}
    assert without(page_after_first, typed) == without(page_after_again, typed)

    notice = emails_to(app, "sam@example.ac.uk")[-1]
    assert "already signed" in notice.body and "/signature/" in notice.body
    assert counts(app).total == 1
    assert "Impostor" not in client.get("/signatories").get_data(as_text=True)


def test_signing_again_before_confirming_sends_a_fresh_confirmation_link(client, app):
    sign_as(client, email="sam@example.ac.uk", name="Sam Typo")
    first_link = link_in_latest_email(app, "sam@example.ac.uk")
    sign_as(client, email="sam@example.ac.uk", name="Sam Scholar")
    emails = emails_to(app, "sam@example.ac.uk")
    assert len(emails) == 1 and "/confirm/" in emails[0].body, "the unsent email with dead links is dropped"
    assert client.get(first_link).status_code == 404, "links from before the new signing no longer work"
    press_confirm(client, link_in_latest_email(app, "sam@example.ac.uk"))
    assert counts(app).total == 1
    assert "Sam Scholar" in client.get("/signatories").get_data(as_text=True)


def test_a_bot_that_typed_a_scholars_address_first_cannot_keep_her_from_signing(client, app):
    # The squat: a honeypot-flagged signature in the victim's name, then the real victim signs.
    bot = app.test_client()
    sign_as(bot, name="Squatter Name", affiliation="Fake Institute", email="victim@example.edu", website="spam")
    assert emails_to(app, "victim@example.edu") == []
    sign_as(client, name="Real Victim", affiliation="Real University", email="Victim@Example.edu")
    [email] = emails_to(app, "victim@example.edu")
    assert "Real Victim" in email.body and "Squatter" not in email.body and "already signed" not in email.body
    page = client.get(link_in_latest_email(app, "victim@example.edu")).get_data(as_text=True)
    assert "Real Victim" in page and "Real University" in page and "Squatter" not in page
    done = press_confirm(client, link_in_latest_email(app, "victim@example.edu"))
    assert "now counts" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert counts(app).total == 1
    listed = client.get("/signatories").get_data(as_text=True)
    assert "Real Victim" in listed and "Squatter" not in listed


def test_a_stranger_who_typed_a_scholars_address_first_cannot_keep_her_from_signing(client, app):
    stranger = app.test_client()
    sign_as(stranger, name="Stranger Name", email="victim@example.edu")
    sign_as(client, name="Real Victim", email="victim@example.edu")
    press_confirm(client, link_in_latest_email(app, "victim@example.edu"))
    listed = client.get("/signatories").get_data(as_text=True)
    assert "Real Victim" in listed and "Stranger" not in listed and counts(app).total == 1


def test_a_bot_cannot_replace_a_persons_unconfirmed_details(client, app):
    sign_as(client, name="Real Person", email="person@example.edu")
    sign_as(app.test_client(), name="Bot Name", email="person@example.edu", website="spam")
    press_confirm(client, link_in_latest_email(app, "person@example.edu"))
    assert "Real Person" in client.get("/signatories").get_data(as_text=True)


def test_a_confirmed_signature_held_back_by_organisers_never_says_it_counts(client, app, organiser_client):
    from sqlalchemy import select

    from petition.extensions import db
    from petition.signatures.models import Signature

    sign_as(client, email="held@example.org")
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    organiser_client.post(
        f"/organisers/signatures/{signature_id}/hide",
        data={
            "reason": "checking",
            "csrf_token": csrf_token(organiser_client, f"/organisers/signatures/{signature_id}"),
        },
    )
    visitor = app.test_client()
    done = press_confirm(visitor, link_in_latest_email(app, "held@example.org"))
    page = visitor.get(done.headers["Location"]).get_data(as_text=True)
    assert "now counts" not in page and "reviewing" in page
    assert counts(app).total == 0


def test_two_spellings_of_one_inbox_make_one_signature(client, app):
    assert sign_as(client, email="carol@bücher.de").status_code == 302
    encoded = sign_as(client, email="=?us-ascii?q?carol?=@xn--bcher-kva.de")
    assert encoded.status_code == 422
    sign_as(client, email="Carol@XN--BCHER-KVA.de", name="Carol Again")
    assert len(emails_to(app, "carol@xn--bcher-kva.de")) == 1
    with app.app_context():
        from sqlalchemy import func, select

        from petition.extensions import db
        from petition.signatures.models import Signature

        assert db.session.execute(select(func.count()).select_from(Signature)).scalar_one() == 1


def manage_link(app, address):
    return link_in_latest_email(app, address, MANAGE_LINK)


def test_a_signer_corrects_their_details_with_the_private_link(client, app):
    sign_and_confirm(client, name="Sam Scolar", affiliation="Uni", email="sam@example.ac.uk", group="international")
    link = manage_link(app, "sam@example.ac.uk")
    form = {
        "name": "Sam Scholar",
        "affiliation": "University of Leeds",
        "group": "chinese",
        "csrf_token": csrf_token(client, link),
    }  # "listed" left unticked
    assert client.post(link, data=form).status_code == 302
    listing = client.get("/signatories").get_data(as_text=True)
    assert "Sam Scolar" not in listing and "Sam Scholar" not in listing
    assert (counts(app).of("chinese"), counts(app).unlisted_of("chinese"), counts(app).of("international")) == (1, 1, 0)


def test_a_correction_with_a_mistake_keeps_the_old_details_and_says_why(client, app):
    sign_and_confirm(client, name="Sam Scholar", email="sam@example.ac.uk")
    link = manage_link(app, "sam@example.ac.uk")
    response = client.post(
        link,
        data={
            "name": "",
            "affiliation": "U",
            "group": "international",
            "listed": "y",
            "csrf_token": csrf_token(client, link),
        },
    )
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
            assert (
                db.session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} LIKE '%Sam%' OR {column} LIKE '%sam@%'")
                ).scalar_one()
                == 0
            )
    assert client.get(link).status_code == 404
    assert re.search("This link does not work", client.get(link).get_data(as_text=True))


def test_correcting_and_withdrawing_at_the_same_moment_ends_on_a_normal_page(client, app):
    # On PostgreSQL the two requests raced to a 500 about one time in four. The race is made certain
    # here: the withdrawal lands between the correction reading the row and writing it.
    from sqlalchemy import event, text

    from petition.extensions import db

    sign_as(client, email="racer@example.org")
    link = manage_link(app, "racer@example.org")
    token = csrf_token(client, link)

    fired = []

    def withdrawn_meanwhile(session, flush_context, instances):
        if not fired and session.dirty:
            fired.append(True)
            session.connection().execute(text("DELETE FROM outgoing_emails"))
            session.connection().execute(text("DELETE FROM signatures"))

    event.listen(db.session, "before_flush", withdrawn_meanwhile)
    try:
        response = client.post(
            link,
            data={
                "name": "Late Correction",
                "affiliation": "U",
                "group": "chinese",
                "listed": "y",
                "csrf_token": token,
            },
        )
    finally:
        event.remove(db.session, "before_flush", withdrawn_meanwhile)
    assert fired
    assert response.status_code == 409
    assert "at the same moment" in response.get_data(as_text=True)
    assert client.get(link).status_code in (200, 404), "the next request is served normally"


def test_the_page_after_signing_shows_where_the_email_went_and_corrects_a_typo(client, app):
    """A mistyped address goes unnoticed unless the signer sees it: shown once, in their browser,
    with the form as typed to send it to the right address."""
    from tests.support import emails_to, sign_as

    signed = sign_as(client, email="ada@exmaple.ac.uk", follow_redirects=True)
    page = signed.get_data(as_text=True)
    assert "ada@exmaple.ac.uk" in page and "Not your address? Correct it" in page
    assert signed.headers["Cache-Control"] == "no-store"
    assert 'value="Ada Lovelace"' in page, "what was typed is kept for the correction"
    fields = dict(re.findall(r'name="(csrf_token|started|name|affiliation|email)"[^>]*value="([^"]*)"', page))
    fields |= {"email": "ada@example.ac.uk", "group": "international"}
    assert client.post("/sign", data=fields).status_code == 302
    assert emails_to(app, "ada@example.ac.uk"), "the email went to the corrected address"
    assert "ada@example.ac.uk" in client.get("/sign/check-your-email").get_data(as_text=True)
    again = client.get("/sign/check-your-email").get_data(as_text=True)
    assert "ada@example.ac.uk" not in again and "Correct it" not in again, "shown once, then forgotten"
