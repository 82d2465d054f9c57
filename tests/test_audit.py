"""The audit log is append-only in the database itself, and the numbers it names never change owner."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from petition.extensions import db
from petition.organisers import audit
from petition.organisers.accounts import login_key
from petition.organisers.models import AuditEntry, Organiser
from petition.signatures.signing import withdraw_signature
from tests.support import confirmed_signature, create_organiser_account, is_postgresql

pytestmark = pytest.mark.usefixtures("ctx")


def an_entry():
    create_organiser_account()
    organiser = db.session.execute(db.select(Organiser)).scalar_one()
    audit.record(organiser, "hide", "signature #1", "spam")
    db.session.commit()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'nothing happened'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE action = 'hide'",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_entries(statement):
    an_entry()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(text("SELECT reason FROM audit_log WHERE action = 'hide'")).scalar_one() == "spam"


def test_truncating_the_audit_log_is_refused_on_postgresql(app):
    if not is_postgresql(app):
        return  # SQLite has no TRUNCATE: "DELETE FROM audit_log" is refused above
    an_entry()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_log CASCADE"))
        db.session.commit()
    db.session.rollback()
    assert db.session.query(AuditEntry).filter(AuditEntry.action == "hide").count() == 1


def test_a_withdrawn_signatures_number_is_never_given_to_another():
    ids = []
    for i in range(3):
        signature = confirmed_signature(email=f"s{i}@example.org")
        ids.append(signature.id)
        withdraw_signature(signature)
    assert len(set(ids)) == 3 and ids == sorted(ids), ids


def test_login_key_is_the_address_authentication_uses():
    assert login_key(" LOCK@ｅxample.org ") == "lock@example.org"
    assert login_key("not an address") == "not an address"
