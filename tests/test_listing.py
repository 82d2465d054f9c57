"""Review before a name is listed (LIST_REVIEW): a reviewed signature counts at once but is not
listed (page, API, delivery copy) until a moderator approves it; declining keeps it counted and
unlisted and tells the signer; every decision is audited."""

import pytest
from sqlalchemy import select

from petition.config import ConfigurationError
from petition.delivery import copy as copy_module
from petition.extensions import db
from petition.organisers.models import AuditEntry, Organiser
from petition.signatories.counts import current_counts
from petition.signatories.public_list import ListFilter, public_page
from petition.signatures import listing
from petition.signatures.models import Signature
from tests.support import (
    MANAGE_LINK,
    confirmed_signature,
    create_organiser_account,
    csrf_token,
    emails_to,
    link_in_latest_email,
    log_in,
    settings,
    sign_and_confirm,
)


def listed_names():
    return [s.name for s in public_page(ListFilter()).signatories]


@pytest.fixture
def review_all(app):
    with settings(app, LIST_REVIEW="all"):
        yield


@pytest.fixture
def moderator(app, client):
    with app.app_context():
        create_organiser_account("mod@example.org")
        db.session.execute(db.update(Organiser).values(role="moderator"))
        db.session.commit()
    assert log_in(client, "mod@example.org", "correct horse battery").status_code == 302
    return client


@pytest.mark.usefixtures("ctx", "review_all")
class TestWithoutHTTP:
    def test_a_reviewed_signature_counts_at_once_but_is_listed_only_when_approved(self):
        signature = confirmed_signature(name="Held Name")
        assert current_counts().total == 1 and listed_names() == []
        organiser = Organiser(email="o@example.org", password_hash="x")
        db.session.add(organiser)
        listing.approve(signature, organiser)
        assert listed_names() == ["Held Name"] and current_counts().total == 1
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "approve-listing")).scalar_one()
        assert entry.target == f"signature #{signature.id}"

    def test_declining_keeps_it_counted_and_unlisted_and_emails_the_signer_their_private_link(self, app):
        signature = confirmed_signature(name="Declined Name", email="declined@example.org")
        organiser = Organiser(email="o@example.org", password_hash="x")
        db.session.add(organiser)
        listing.decline(signature, organiser, "not a scholar we can find")
        db.session.commit()
        assert current_counts().total == 1 and listed_names() == []
        db.session.commit()  # another session reads the outbox
        [_, notice] = emails_to(app, "declined@example.org")
        assert MANAGE_LINK.search(notice.body) and "not a scholar we can find" not in notice.body

    def test_a_name_that_asked_not_to_be_shown_needs_no_review(self):
        signature = confirmed_signature(listed=False)
        assert signature.listing_review == "none" and current_counts().total == 1

    def test_the_delivery_copy_leaves_held_names_out_and_says_how_many(self):
        confirmed_signature(name="Held", email="held@example.org")
        copy = copy_module.delivery_copy("en")
        [international] = [g for g in copy.groups if g.group.key == "international"]
        assert international.names == [] and international.not_listed == 1


def test_unverified_reviews_only_addresses_that_do_not_look_institutional(app, ctx):
    with settings(app, LIST_REVIEW="unverified"):
        confirmed_signature(name="Ada", affiliation="University of Oxford", email="ada@ox.ac.uk")
        confirmed_signature(name="Bob", affiliation="University of Oxford", email="bob@gmail.com")
    assert listed_names() == ["Ada"] and current_counts().total == 2


def test_unverified_reviews_look_alike_addresses_named_after_the_affiliation_typed(app, ctx):
    with settings(app, LIST_REVIEW="unverified"):
        confirmed_signature(name="Wei", affiliation="Peking University", email="wei@pku.edu.cn")
        confirmed_signature(name="Li", affiliation="Peking University", email="li@peking.attacker-owned.example.net")
        confirmed_signature(name="Mei", affiliation="Peking University", email="mei@scientist.com")
        confirmed_signature(name="Zhang", affiliation="Fudan University", email="zhang@univ-mail.example.net")
        confirmed_signature(name="Chen", affiliation="Fudan University", email="chen@fudan.example.org")
    assert listed_names() == ["Wei"] and current_counts().total == 5


def test_an_unknown_policy_is_refused_at_start(database):
    from tests.support import make_app

    with pytest.raises(ConfigurationError, match="LIST_REVIEW"):
        make_app(database, LIST_REVIEW="some")


@pytest.mark.usefixtures("review_all")
def test_the_signer_is_told_on_confirming_and_on_their_private_page(client, app):
    response = sign_and_confirm(client, name="Ada Lovelace", email="ada@example.ac.uk")
    assert response.status_code == 302
    thanks = client.get("/thanks").get_data(as_text=True)
    assert "check each name" in thanks
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        from petition.signatures.tokens import MANAGE, make_token

        token = make_token(signature, MANAGE)
    manage = client.get(f"/en/signature/{token}").get_data(as_text=True)
    assert "check each name" in manage
    listing_page = client.get("/signatories").get_data(as_text=True)
    assert "Ada Lovelace" not in listing_page and "not (yet) named here" in listing_page
    assert client.get("/api/signatories").get_json()["signatories"] == []
    assert client.get("/api/counts").get_json()["total"] == 1


@pytest.mark.usefixtures("review_all")
def test_a_moderator_approves_a_name_from_the_review_tab(client, app, moderator):
    sign_and_confirm(client, name="Ada Lovelace", email="ada@example.ac.uk")
    tab = client.get("/organisers/?review=listing").get_data(as_text=True)
    assert "Ada Lovelace" in tab and "approve-listing" in tab
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    token = csrf_token(client, "/organisers/?review=listing")
    done = client.post(
        f"/organisers/signatures/{signature_id}/approve-listing",
        data={"csrf_token": token, "back": "/organisers/?review=listing"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/organisers/?review=listing")
    assert "Ada Lovelace" in client.get("/signatories").get_data(as_text=True)


@pytest.mark.usefixtures("review_all")
def test_a_declined_signer_who_corrects_their_details_is_reviewed_again(client, app, moderator):
    sign_and_confirm(client, name="A Lovelace", email="ada@example.ac.uk")
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    path = f"/organisers/signatures/{signature_id}"
    declined = client.post(f"{path}/decline-listing", data={"csrf_token": csrf_token(client, path), "reason": "who?"})
    assert declined.status_code == 302
    private = link_in_latest_email(app, "ada@example.ac.uk", MANAGE_LINK)
    page = client.get(private).get_data(as_text=True)
    assert "decided not to show your name" in page
    token = csrf_token(client, private)
    client.post(
        private,
        data={
            "csrf_token": token,
            "name": "Ada Lovelace",
            "affiliation": "University of London",
            "group": "international",
            "listed": "y",
        },
    )
    with app.app_context():
        assert db.session.execute(select(Signature.listing_review)).scalar_one() == "pending"


@pytest.mark.usefixtures("review_all")
def test_declining_needs_a_reason_and_a_viewer_may_not_review(client, app, runner):
    sign_and_confirm(client, email="ada@example.ac.uk")
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    runner.invoke(
        args=["organisers", "create", "viewer@example.org", "--role", "viewer"], input="correct horse battery\n" * 2
    )
    log_in(client, "viewer@example.org", "correct horse battery")
    token = csrf_token(client, "/organisers/")
    assert "review=listing" not in client.get("/organisers/").get_data(as_text=True)
    refused = client.post(f"/organisers/signatures/{signature_id}/approve-listing", data={"csrf_token": token})
    assert refused.status_code == 403


@pytest.mark.usefixtures("review_all")
def test_the_back_address_after_a_review_never_leads_off_the_site(client, app, moderator):
    sign_and_confirm(client, email="ada@example.ac.uk")
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    token = csrf_token(client, "/organisers/")
    done = client.post(
        f"/organisers/signatures/{signature_id}/approve-listing",
        data={"csrf_token": token, "back": "https://evil.example/phish"},
    )
    assert done.status_code == 302 and "evil.example" not in done.headers["Location"]


def test_the_count_of_names_kept_off_the_list_is_answered_by_its_own_index(app, ctx):
    """Every list page counts the names awaiting listing: the database must be able to answer from the
    partial index of just those rows (on PostgreSQL with scans of the whole table ruled out, since
    on a table this small it would rather scan), not by reading every listed signature."""
    from sqlalchemy import text

    query = listing.awaiting_per_group_query().compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        plan = " ".join(str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {query}")))
    else:
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in db.session.execute(text(f"EXPLAIN {query}")))
    db.session.rollback()
    assert "ix_signatures_awaiting_listing" in plan, plan
