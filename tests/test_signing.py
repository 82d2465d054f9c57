import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError

from petition.extensions import db
from petition.mail.models import OutgoingEmail
from petition.privacy.addresses import email_hash, mailbox_hash
from petition.signatures.models import Signature
from petition.signatures.signing import confirm_signature, sign
from tests.support import is_postgresql, settle_signings_now

pytestmark = pytest.mark.usefixtures("ctx")


def signature_count():
    return db.session.execute(select(func.count()).select_from(Signature)).scalar_one()


def test_signing_stores_a_tidy_signature():
    outcome = sign(
        name="  Ada  Lovelace ",
        affiliation=" University of London ",
        email=" Ada@Example.AC.UK ",
        group="international",
        listed=True,
    )
    assert outcome.created
    stored = db.session.get(Signature, outcome.signature.id)
    assert (stored.name, stored.affiliation, stored.email) == (
        "Ada Lovelace",
        "University of London",
        "ada@example.ac.uk",
    )
    assert stored.signed_at.tzinfo is not None


def test_an_address_signs_only_once_whatever_its_case_or_spaces():
    first = sign(name="Ada", affiliation="UCL", email="ada@example.org", group="international")
    confirm_signature(first.signature)
    again = sign(name="Someone Else", affiliation="Elsewhere", email="  ADA@example.ORG ", group="chinese")
    assert not again.created and not again.replaced
    assert again.signature.id == first.signature.id
    assert signature_count() == 1
    assert db.session.get(Signature, first.signature.id).name == "Ada"


def test_an_unconfirmed_signature_takes_the_details_of_the_latest_signing():
    first = sign(name="Squatter", affiliation="Nowhere", email="ada@example.org", group="chinese", suspected_bot=True)
    secret = first.signature.secret
    again = sign(name="Ada", affiliation="UCL", email="ada@example.org", group="international", fill_seconds=2.0)
    assert again.replaced and again.signature.id == first.signature.id and signature_count() == 1
    stored = db.session.get(Signature, first.signature.id)
    assert (stored.name, stored.group, stored.suspected_bot, stored.fill_seconds) == (
        "Ada",
        "international",
        False,
        2.0,
    )
    assert stored.secret != secret, "links made for the earlier details stop working"


def test_the_database_itself_refuses_a_second_signature_from_one_address():
    db.session.add(Signature(name="A", affiliation="B", email="x@example.org", group="chinese"))
    db.session.commit()
    db.session.add(Signature(name="C", affiliation="D", email="x@example.org", group="chinese"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    "fields",
    [
        {"group": "martian"},
        {"name": ""},
        {"name": "x" * 201},
        {"affiliation": "y" * 301},
    ],
)
def test_the_database_refuses_rows_that_break_the_rules(fields):
    row = {"name": "A", "affiliation": "B", "email": "a@example.org", "group": "chinese", **fields}
    db.session.add(Signature(**row))
    with pytest.raises((IntegrityError, DataError)):  # PostgreSQL reports an over-long value as DataError
        db.session.commit()
    db.session.rollback()


def test_a_broken_rule_that_is_not_a_duplicate_is_not_hidden():
    with pytest.raises(IntegrityError):
        sign(name="A", affiliation="B", email="a@example.org", group="martian")
    db.session.rollback()  # as the request does when it fails (PostgreSQL has ended the transaction)
    assert signature_count() == 0


def test_a_signature_and_its_confirmation_email_are_kept_or_lost_together():
    # sign() only flushes: the request (or command) that called it decides, once, for both.
    from petition.mail.models import OutgoingEmail

    sign(name="Ada", affiliation="U", email="ada@example.org", group="chinese")
    db.session.rollback()
    assert signature_count() == 0
    assert db.session.execute(select(func.count()).select_from(OutgoingEmail)).scalar_one() == 0


def test_a_taken_address_undoes_only_its_own_insert_not_the_callers_other_work():
    taken = confirm_signature(sign(name="Ada", affiliation="U", email="ada@example.org", group="chinese").signature)
    db.session.commit()
    newcomer = sign(name="Bo", affiliation="U", email="bo@example.org", group="chinese")
    again = sign(name="Ada Again", affiliation="U", email="ada@example.org", group="chinese")
    db.session.commit()
    assert again.created is False and again.signature.id == taken.id
    assert {s.email for s in db.session.execute(select(Signature)).scalars()} == {"ada@example.org", "bo@example.org"}
    assert newcomer.signature.name == "Bo"


def test_the_sign_form_writes_its_signing_in_a_transaction_of_its_own(app):
    """sign_now (the sign form's way) commits one outbox row at once, whatever the address: what the
    request does afterwards cannot lose it. The mail worker adds the signature when it takes the row,
    and the row becomes its confirmation."""
    from petition.mail.signer_emails import SIGNED
    from petition.signatures.signing import sign_now

    sign_now(name="Fast Signer", affiliation="Uni", email="Fast@Example.org", group="chinese")
    db.session.rollback()  # the request's own transaction ends without a commit
    [row] = db.session.execute(select(OutgoingEmail)).scalars()
    assert (row.to_address, row.template, row.signature_id) == ("fast@example.org", SIGNED, None)
    assert signature_count() == 0, "the form looks nothing up and adds nothing else"
    settle_signings_now(app)
    stored = db.session.execute(
        select(Signature).where(Signature.email_hash == email_hash("fast@example.org"))
    ).scalar_one()
    assert (stored.name, stored.is_confirmed, stored.visible) == ("Fast Signer", False, False)
    [email] = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.signature_id == stored.id)).scalars()
    assert (email.id, email.to_address, email.template) == (row.id, "fast@example.org", "confirm")
    assert email.signing_details is None, "what the signer gave is not kept in the outbox once settled"


def test_the_sign_form_stores_the_same_signature_as_the_usual_way(app):
    """sign_now builds its row without an ORM object and the worker adds the signature from it: every
    column must come out as sign() makes it."""
    from sqlalchemy import inspect as sa_inspect

    from petition.signatures.signing import sign_now

    given = {"name": " Same  Signer ", "affiliation": "Uni", "group": "international", "listed": False}
    given |= {"wants_updates": True, "ip_hash": "a" * 64, "language": "zh", "fill_seconds": 12.5}
    sign(email="usual@example.org", **given)
    db.session.commit()
    sign_now(email="Form@Example.org", **given)
    settle_signings_now(app)
    usual, form = (
        db.session.execute(select(Signature).where(Signature.email_hash == email_hash(address))).scalar_one()
        for address in ("usual@example.org", "form@example.org")
    )
    differ = {"id", "email", "email_hash", "email_key", "secret", "signed_at"}
    columns = [c.key for c in sa_inspect(Signature).column_attrs if c.key not in differ]
    assert {c: getattr(form, c) for c in columns} == {c: getattr(usual, c) for c in columns}
    assert form.email_key == mailbox_hash("form@example.org") and len(form.secret) == len(usual.secret)
    assert form.email_hash and form.email_hash != usual.email_hash


def test_the_worker_adds_a_batch_of_signings_as_sign_adds_one(app):
    """Signings the worker takes together are added in one statement, the same one sign() uses
    (insert_signatures): each signature gets the letter's version, and a second signing with an
    address in the batch is settled after the first (its newer details replace them)."""
    from petition.letter import versions
    from petition.mail.signer_emails import TO_SETTLE
    from petition.signatures.signing import sign_now

    versions.publish("the first text")
    db.session.commit()
    for n in range(3):
        sign_now(name=f"Signer {n}", affiliation="Uni", email=f"s{n}@example.org", group="chinese")
    sign_now(name="Signer again", affiliation="Uni", email="s0@example.org", group="chinese")
    settle_signings_now(app)
    sign(name="Usual", affiliation="Uni", email="usual@example.org", group="chinese")
    db.session.commit()
    stored = dict(db.session.execute(select(Signature.name, Signature.letter_version)).all())
    assert set(stored) == {"Signer again", "Signer 1", "Signer 2", "Usual"}
    assert stored["Usual"] is not None and set(stored.values()) == {stored["Usual"]}
    templates = db.session.execute(select(OutgoingEmail.template)).scalars().all()
    assert sorted(templates) == ["confirm"] * 4 and not set(templates) & set(TO_SETTLE)


def test_the_sign_form_writes_the_same_row_for_a_taken_address_and_its_owner_is_told(app):
    from petition.mail.signer_emails import SIGNED
    from petition.signatures.signing import confirm_signature, sign_now

    sign_now(name="Owner", affiliation="Uni", email="owner@example.org", group="chinese")
    settle_signings_now(app)
    confirm_signature(db.session.execute(select(Signature)).scalar_one())
    db.session.commit()
    sign_now(name="Impostor", affiliation="Elsewhere", email="owner@example.org", group="international")
    db.session.commit()
    written = db.session.execute(select(OutgoingEmail).order_by(OutgoingEmail.id.desc())).scalars().first()
    assert (written.template, written.signature_id) == (SIGNED, None), "as for an address nobody has used"
    settle_signings_now(app)
    assert db.session.execute(select(Signature.name)).scalars().all() == ["Owner"]
    templates = (
        db.session.execute(
            select(OutgoingEmail.template)
            .where(OutgoingEmail.to_hash == email_hash("owner@example.org"))
            .order_by(OutgoingEmail.id)
        )
        .scalars()
        .all()
    )
    assert templates == ["confirm", "already_confirmed"]


def test_the_sign_forms_driver_statements_store_hostile_text_as_text(app):
    """The fast path builds its SQL once and sends every value as a parameter: a name written as SQL,
    a quote in the address, stay what they are, and nothing else in the tables changes."""
    from petition.signatures.signing import sign_now

    name = "Robert'); DROP TABLE signatures; --"
    sign_now(name=name, affiliation='Uni" OR 1=1 --', email="o'brien@example.org", group="chinese")
    db.session.rollback()
    settle_signings_now(app)
    stored = db.session.execute(select(Signature)).scalar_one()
    assert (stored.name, stored.affiliation, stored.email) == (name, 'Uni" OR 1=1 --', "o'brien@example.org")
    assert db.session.execute(select(func.count()).select_from(Signature)).scalar_one() == 1
    [email] = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.signature_id == stored.id)).scalars()
    assert email.to_address == "o'brien@example.org"


def test_a_signing_the_outbox_refuses_leaves_nothing_and_the_next_signers_sign(monkeypatch, app):
    """A row the outbox refuses is not kept, on either database, and the connection goes back to the
    pool fit for the next signer."""
    import sqlite3

    import psycopg

    from petition.mail.signer_emails import signing_row
    from petition.signatures import signing as signatures_signing

    def refused_by_the_outbox(address, signed_at, details):
        return {**signing_row(address, signed_at, details), "next_attempt_at": None}  # NOT NULL

    monkeypatch.setattr(signatures_signing, "signing_row", refused_by_the_outbox)
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        signatures_signing.sign_now(name="Lost", affiliation="Uni", email="lost@example.org", group="chinese")
    monkeypatch.undo()
    assert db.session.execute(select(func.count()).select_from(OutgoingEmail)).scalar_one() == 0
    db.session.rollback()  # the session's transaction holds SQLite's lock: the form ends it first
    for attempt in range(3):  # every pooled connection is back in its usual mode
        signatures_signing.sign_now(
            name=f"Next {attempt}", affiliation="Uni", email=f"next{attempt}@example.org", group="chinese"
        )
    sign(name="Usual", affiliation="Uni", email="usual@example.org", group="chinese")
    db.session.rollback()  # the request's transaction still ends as it always did: without this one
    settle_signings_now(app)
    assert signature_count() == 3


def test_a_connection_the_server_dropped_fails_one_signing_and_is_not_handed_out_again(app):
    """PostgreSQL restarted while signers kept coming (the connection not idle long enough to be
    pinged): the signer whose statement meets the dead pooled connection gets an error, with nothing
    written; the pool drops that connection and the signers after sign."""
    if not is_postgresql(app):
        return
    import psycopg

    from petition.signatures import signing as signatures_signing
    from tests.support import server_drops_the_pools_connection

    db.session.rollback()
    server_drops_the_pools_connection(app)
    with pytest.raises(psycopg.OperationalError):
        signatures_signing.sign_now(name="Unlucky", affiliation="Uni", email="unlucky@example.org", group="chinese")
    for n in range(3):
        signatures_signing.sign_now(name="After", affiliation="Uni", email=f"after{n}@example.org", group="chinese")
    settle_signings_now(app)
    assert db.session.execute(select(Signature.email).order_by(Signature.id)).scalars().all() == [
        "after0@example.org",
        "after1@example.org",
        "after2@example.org",
    ]
    db.session.rollback()
