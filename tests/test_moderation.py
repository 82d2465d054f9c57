"""Organisers hide, restore, delete and approve signatures, one at a time or in bulk, and every
action lands in the audit log."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from petition.db.types import now_utc
from petition.extensions import db
from petition.organisers.audit import latest_entries
from petition.organisers.models import AuditEntry, Organiser
from petition.signatories.counts import current_counts
from petition.signatories.public_list import ListFilter, public_page
from petition.signatures import moderation
from petition.signatures.models import Signature
from petition.signatures.signing import sign
from tests.support import confirmed_signature, create_organiser_account, csrf_token, emails_to, sign_and_confirm


@pytest.fixture
def organiser(ctx):
    email, _ = create_organiser_account()
    return db.session.execute(select(Organiser).where(Organiser.email == email)).scalar_one()


def public_names():
    return [s.name for s in public_page(ListFilter()).signatories]


def test_hide_and_restore_take_a_signature_out_of_and_back_into_the_list_and_counts(organiser):
    signature = confirmed_signature(name="Mickey Mouse")
    moderation.hide(signature, organiser, "joke name")
    assert current_counts().total == 0 and public_names() == []
    moderation.restore(signature, organiser, "checked: a real scholar")
    assert current_counts().total == 1 and public_names() == ["Mickey Mouse"]
    assert [(e.action, e.target, e.reason, e.organiser_email) for e in latest_entries()][:2] == [
        ("restore", f"signature #{signature.id}", "checked: a real scholar", organiser.email),
        ("hide", f"signature #{signature.id}", "joke name", organiser.email),
    ]


def test_delete_removes_the_signature_and_its_emails(organiser):
    signature = confirmed_signature(email="fake@example.org")
    moderation.delete_signature(signature, organiser, "fake")
    assert db.session.execute(select(Signature)).scalars().all() == []
    assert latest_entries()[0].action == "delete"


def test_approving_a_flagged_signature_sends_its_confirmation(organiser, app):
    flagged = sign(
        name="Fast Typist", affiliation="U", email="fast@example.org", group="chinese", suspected_bot=True
    ).signature
    db.session.commit()
    assert emails_to(app, "fast@example.org") == []
    moderation.approve_flagged(flagged, organiser, "a real person who types fast")
    db.session.commit()
    assert "/confirm/" in emails_to(app, "fast@example.org")[0].body
    assert not flagged.suspected_bot and not flagged.visible


def test_bulk_hide_by_domain_previews_then_hides_only_that_domain(organiser):
    for i in range(3):
        confirmed_signature(name=f"Spam {i}", email=f"s{i}@spam.example")
    confirmed_signature(name="Real", email="real@uni.example")
    confirmed_signature(name="Sub", email="x@sub.spam.example")
    selection = moderation.BulkSelection(domain="SPAM.example")
    assert moderation.preview_bulk_hide(selection) == 3
    assert moderation.bulk_hide(selection, organiser, "flood") == 3
    assert sorted(public_names()) == ["Real", "Sub"]
    assert current_counts().total == 2
    assert latest_entries()[0].target.startswith("3 signatures: domain spam.example")


def test_bulk_hide_by_time_window(organiser):
    early = confirmed_signature(name="Early", email="early@example.org")
    late = confirmed_signature(name="Late", email="late@example.org")
    db.session.execute(
        text("UPDATE signatures SET signed_at = :t WHERE id = :id"),
        {
            "t": (now_utc() - timedelta(days=2)).replace(tzinfo=None)
            if db.engine.dialect.name == "sqlite"
            else now_utc() - timedelta(days=2),
            "id": early.id,
        },
    )
    db.session.commit()
    selection = moderation.BulkSelection(since=now_utc() - timedelta(hours=1))
    assert moderation.preview_bulk_hide(selection) == 1
    moderation.bulk_hide(selection, organiser, "flood in the last hour")
    assert public_names() == ["Early"]
    assert late.id


def test_a_bulk_hide_needs_a_criterion(organiser):
    with pytest.raises(ValueError):
        moderation.bulk_hide(moderation.BulkSelection(), organiser, "everything?")


def test_the_audit_log_cannot_be_edited(organiser):
    moderation.hide(confirmed_signature(), organiser, "reason")
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE audit_log SET reason = 'rewritten'"))
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(select(AuditEntry.reason).where(AuditEntry.action == "hide")).scalar_one() == "reason"


# --- Through the organiser pages ---------------------------------------------------------------


def test_an_organiser_hides_a_signature_from_its_page_with_a_reason(organiser_client, app):
    sign_and_confirm(organiser_client, name="Joke Name", email="joke@example.org")
    with app.app_context():
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
    page = f"/organisers/signatures/{signature_id}"
    assert "joke@example.org" in organiser_client.get(page).get_data(as_text=True)
    no_reason = organiser_client.post(
        page + "/hide", data={"reason": "", "csrf_token": csrf_token(organiser_client, page)}
    )
    assert no_reason.status_code == 422 and "Give a reason" in no_reason.get_data(as_text=True)
    done = organiser_client.post(
        page + "/hide", data={"reason": "joke", "csrf_token": csrf_token(organiser_client, page)}
    )
    assert done.status_code == 302
    assert "Joke Name" not in organiser_client.get("/signatories").get_data(as_text=True)
    dashboard = organiser_client.get("/organisers/?review=hidden").get_data(as_text=True)
    assert "Joke Name" in dashboard and "joke" in dashboard


def test_bulk_hide_page_shows_the_count_before_hiding(organiser_client, app):
    for i in range(2):
        sign_and_confirm(organiser_client, name=f"Flood {i}", email=f"f{i}@flood.example")
    form = {
        "domain": "@flood.example",
        "reason": "flood",
        "csrf_token": csrf_token(organiser_client, "/organisers/bulk-hide"),
    }
    preview = organiser_client.post("/organisers/bulk-hide", data=form)
    assert "This will hide 2 signatures." in preview.get_data(as_text=True)
    with app.app_context():
        assert current_counts().total == 2
    done = organiser_client.post("/organisers/bulk-hide", data={**form, "confirm": "yes"})
    assert done.status_code == 302
    with app.app_context():
        assert current_counts().total == 0


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"domain": "", "since": "", "until": ""}, "domain", "Give a domain, a time window, or both."),
        ({"domain": "not a domain"}, "domain", "Enter a domain such as example.com."),
        (
            {"since": "2026-11-29T12:00", "until": "2026-11-29T11:00"},
            "until",
            "The end of the window must come after its start.",
        ),
        (
            {"since": "2026-11-29T12:00", "until": "2026-11-29T12:00"},
            "until",
            "The end of the window must come after its start.",
        ),
        ({"since": "yesterday"}, "since", "Enter a date and time, such as 2026-11-29 14:30."),
        ({"domain": "flood.example", "reason": ""}, "reason", "Give a reason; it goes into the audit log."),
    ],
)
def test_a_bulk_hide_that_would_hide_everything_or_nothing_sensible_is_refused_beside_its_field(
    organiser_client, app, fields, field, message
):
    sign_and_confirm(organiser_client, name="Bystander", email="b@flood.example")
    form = {
        "reason": "flood",
        **fields,
        "confirm": "yes",
        "csrf_token": csrf_token(organiser_client, "/organisers/bulk-hide"),
    }
    response = organiser_client.post("/organisers/bulk-hide", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'name="{field}"' in html
    with app.app_context():
        assert current_counts().total == 1, "nothing was hidden"


def test_each_export_is_recorded_in_the_audit_log(organiser_client, app):
    organiser_client.get("/organisers/export.csv").get_data()
    organiser_client.get("/organisers/export.csv?scope=all").get_data()
    with app.app_context():
        assert [(e.action, e.target) for e in latest_entries() if e.action != "create-account"] == [
            ("export", "all signatures"),
            ("export", "confirmed signatures"),
        ]
    assert "confirmed signatures" in organiser_client.get("/organisers/").get_data(as_text=True)


def test_the_dashboard_marks_institutional_addresses(organiser_client):
    sign_and_confirm(organiser_client, name="Ada", affiliation="University of Oxford", email="ada@ox.ac.uk")
    sign_and_confirm(organiser_client, name="Bob", affiliation="Somewhere", email="bob@gmail.com")
    html = organiser_client.get("/organisers/").get_data(as_text=True)
    assert "✓ academic domain (University of Oxford)" in html
    assert html.count("✓") == 1
