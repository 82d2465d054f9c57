"""Organiser roles: a viewer sees counts and names without addresses, a moderator also acts on
signatures, an admin does everything. A route a role may not use answers 403 and its link is not
shown. Accounts are made and changed with the command line."""

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.organisers.models import AuditEntry
from tests.support import csrf_token, log_in, sign_and_confirm

PASSWORD = "correct horse battery"
SIGNER = "ada@example.ac.uk"


def make_account(runner, email, role=None):
    args = ["organisers", "create", email] + (["--role", role] if role else [])
    result = runner.invoke(args=args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def as_role(app, client, runner):
    def log_in_as(role):
        make_account(runner, f"{role}@example.org", role)
        assert log_in(client, f"{role}@example.org", PASSWORD).status_code == 302
        return client

    return log_in_as


@pytest.fixture
def signature_id(client, app):
    sign_and_confirm(client, email=SIGNER)
    from petition.signatures.models import Signature

    with app.app_context():
        return db.session.execute(select(Signature.id)).scalar_one()


ADMIN_ONLY = [
    "/organisers/export.csv",
    "/organisers/delivery",
    "/organisers/delivery/copies/1.pdf",
    "/organisers/updates",
    "/organisers/bulk-hide",
]


def moderate(client, signature_id, action):
    path = f"/organisers/signatures/{signature_id}"
    return client.post(
        f"{path}/{action}",
        data={"csrf_token": csrf_token(client, "/organisers/"), "reason": "checked", "confirm": "yes"},
    )


def test_a_viewer_sees_counts_and_names_but_no_address_and_cannot_act(as_role, signature_id):
    client = as_role("viewer")
    dashboard = client.get("/organisers/").get_data(as_text=True)
    assert "Ada Lovelace" in dashboard and SIGNER not in dashboard
    for path in ADMIN_ONLY:
        assert path not in dashboard
        assert client.get(path).status_code == 403, path
    detail = client.get(f"/organisers/signatures/{signature_id}").get_data(as_text=True)
    assert SIGNER not in detail and "/hide" not in detail
    assert moderate(client, signature_id, "hide").status_code == 403


def test_a_moderator_sees_addresses_and_hides_but_cannot_delete_export_or_publish(as_role, signature_id, client):
    client = as_role("moderator")
    assert SIGNER in client.get("/organisers/").get_data(as_text=True)
    detail = client.get(f"/organisers/signatures/{signature_id}").get_data(as_text=True)
    assert "/hide" in detail and "/delete" not in detail
    assert moderate(client, signature_id, "hide").status_code == 302
    assert moderate(client, signature_id, "delete").status_code == 403
    for path in ADMIN_ONLY:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/organisers/")
    assert client.post("/organisers/delivery/en", data={"csrf_token": token}).status_code == 403


def test_an_admin_may_do_everything(as_role, signature_id):
    client = as_role("admin")
    dashboard = client.get("/organisers/").get_data(as_text=True)
    assert "/organisers/export.csv" in dashboard and "/organisers/updates" in dashboard
    assert client.get("/organisers/export.csv").status_code == 200
    assert moderate(client, signature_id, "delete").status_code == 302


def test_create_makes_an_admin_unless_told_otherwise_and_list_shows_every_account(runner):
    assert "(admin)" in make_account(runner, "first@example.org")
    assert "(viewer)" in make_account(runner, "second@example.org", "viewer")
    listing = runner.invoke(args=["organisers", "list"]).output.splitlines()
    assert listing == ["first@example.org\tadmin\t2FA off\tactive", "second@example.org\tviewer\t2FA off\tactive"]
    refused = runner.invoke(
        args=["organisers", "create", "third@example.org", "--role", "owner"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert refused.exit_code != 0 and "owner" in refused.output


def test_set_role_changes_what_a_logged_in_account_may_do_at_once(as_role, runner, app):
    client = as_role("admin")
    assert client.get("/organisers/export.csv").status_code == 200
    assert runner.invoke(args=["organisers", "set-role", "admin@example.org", "viewer"]).exit_code == 0
    assert client.get("/organisers/export.csv").status_code == 403
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "set-role")).scalar_one()
        assert entry.target == "organiser admin@example.org (viewer)" and entry.reason == "from the command line"


def test_a_disabled_account_is_logged_out_and_cannot_log_in(as_role, runner, client):
    as_role("moderator")
    result = runner.invoke(args=["organisers", "disable", "moderator@example.org"])
    assert result.exit_code == 0, result.output
    assert client.get("/organisers/").status_code == 302
    again = log_in(client, "moderator@example.org", PASSWORD)
    assert again.status_code == 422 and client.get("/organisers/").status_code == 302
    assert "disabled" in runner.invoke(args=["organisers", "list"]).output
    assert runner.invoke(args=["organisers", "disable", "nobody@example.org"]).exit_code != 0
