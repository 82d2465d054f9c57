"""The schema comes only from the migrations: every one runs up and back down, and they match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from petition.extensions import db


def table_names():
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_every_migration_runs_down_to_empty_and_up_again(ctx):
    assert {"signatures", "organisers"} <= table_names()
    downgrade(revision="base")
    db.engine.dispose()
    assert table_names() == set()
    upgrade()
    assert {"signatures", "organisers"} <= table_names()


def not_the_search_index(name, type_, parent_names):
    """The search index (models.SEARCH_INDEX) is no table or index the models describe: its own test
    below checks it is there."""
    from petition.signatures.models import SEARCH_INDEX

    return not (name or "").startswith(tuple(SEARCH_INDEX.values()))


def test_the_migrations_build_exactly_what_the_models_describe(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": not_the_search_index})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_migrations_build_the_search_index(ctx):
    from sqlalchemy import text

    from petition.signatures.models import SEARCH_INDEX

    with db.engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            query = "SELECT indexname FROM pg_indexes WHERE tablename = 'signatures'"
            names = set(connection.execute(text(query)).scalars())
        else:
            names = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
    assert SEARCH_INDEX[dialect] in names


def test_signatures_made_before_confirmation_existed_stay_confirmed_and_counted(ctx):
    from sqlalchemy import text

    from petition.signatories.counts import current_counts

    downgrade(revision="0001")
    db.session.execute(
        text(
            "INSERT INTO signatures (name, affiliation, email, signatory_group, listed, signed_at) "
            "VALUES ('Early Signer', 'Uni', 'early@example.org', 'chinese', :listed, :at)"
        ),
        {"listed": True, "at": "2026-01-01 00:00:00"},
    )
    db.session.commit()
    upgrade()
    row = db.session.execute(text("SELECT status, visible, secret FROM signatures")).one()
    assert row.status == "confirmed" and row.visible and len(row.secret) >= 16
    assert current_counts().of("chinese") == 1


def test_migrating_keeps_the_outbox_of_existing_signatures(ctx):
    """Rebuilding the signatures table (SQLite batch mode) must not cascade into the emails about them."""
    from sqlalchemy import text

    from petition.signatures.signing import sign

    downgrade(revision="0002")
    db.engine.dispose()
    db.session.execute(
        text(
            "INSERT INTO signatures (id, name, affiliation, email, signatory_group, listed, signed_at, status, "
            "hidden, suspected_bot, visible, secret) VALUES (1, 'A', 'U', 'a@example.org', 'chinese', :t, "
            "'2026-01-01 00:00:00', 'pending', :f, :f, :f, 'secret-secret-secret')"
        ),
        {"t": True, "f": False},
    )
    db.session.execute(
        text(
            "INSERT INTO outgoing_emails (signature_id, to_address, subject, body, created_at, next_attempt_at, "
            "attempts) VALUES (1, 'a@example.org', 'S', 'B', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0)"
        )
    )
    db.session.commit()
    upgrade()
    assert db.session.execute(text("SELECT count(*) FROM outgoing_emails")).scalar_one() == 1
    assert sign(name="B", affiliation="U", email="b@example.org", group="chinese").created


def check_constraint_names(connection):
    inspector = inspect(connection)
    return {
        (table, check["name"])
        for table in inspector.get_table_names()
        if table != "alembic_version"
        for check in inspector.get_check_constraints(table)
    }


def declared_check_constraint_names(metadata):
    from sqlalchemy import CheckConstraint

    return {
        (table.name, constraint.name)
        for table in metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }


def trigger_names(connection):
    from sqlalchemy import text

    if connection.dialect.name == "postgresql":
        query = "SELECT DISTINCT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return set(connection.execute(text(query)).scalars())


def schema_differences(connection, metadata):
    """What alembic's comparison cannot see: CHECK constraints and triggers."""
    from petition.signatures.models import TRIGGERS

    migrated, declared = check_constraint_names(connection), declared_check_constraint_names(metadata)
    return {
        "checks missing": declared - migrated,
        "checks extra": migrated - declared,
        "triggers missing": TRIGGERS[connection.dialect.name] - trigger_names(connection),
        "triggers extra": trigger_names(connection) - TRIGGERS[connection.dialect.name],
    }


NO_DIFFERENCE = {"checks missing": set(), "checks extra": set(), "triggers missing": set(), "triggers extra": set()}


def test_the_migrations_build_every_check_constraint_and_trigger_the_models_rely_on(ctx):
    with db.engine.connect() as connection:
        assert len(check_constraint_names(connection)) >= 9
        assert schema_differences(connection, db.metadata) == NO_DIFFERENCE


def test_a_check_constraint_missing_from_the_database_is_caught(ctx):
    from sqlalchemy import CheckConstraint, MetaData

    models = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["signatures"].append_constraint(CheckConstraint("length(name) < 100", name="name_short"))
    with db.engine.connect() as connection:
        differences = schema_differences(connection, models)
    assert differences["checks missing"] == {("signatures", "ck_signatures_name_short")}


def test_a_trigger_missing_from_the_database_is_caught(ctx):
    from sqlalchemy import text

    with db.engine.connect() as connection:
        transaction = connection.begin()
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_log_no_delete ON audit_log"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        try:
            assert schema_differences(connection, db.metadata)["triggers missing"] == {"audit_log_no_delete"}
        finally:
            transaction.rollback()


def test_every_table_that_must_never_reuse_an_id_keeps_autoincrement_on_sqlite(ctx):
    # SQLite rebuilds a table when a migration alters it in batch mode; without the flag an id
    # would be handed out again after a delete ("signature #15" in the audit log must mean one row).
    if db.engine.dialect.name != "sqlite":
        return
    from petition.db.types import NEVER_REUSE_IDS

    must = {
        t.name
        for t in db.metadata.sorted_tables
        if t.kwargs.get("sqlite_autoincrement") == NEVER_REUSE_IDS["sqlite_autoincrement"]
    }
    with db.engine.connect() as connection:
        have = {
            name
            for name, sql in connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            if sql and "AUTOINCREMENT" in sql
        }
    assert must and must <= have, must - have


def test_going_back_before_emails_were_written_when_sent_waits_for_the_worker(ctx, smtp_server):
    """Before 0015 every outbox row carried its text: a downgrade refuses while one is still to be
    written (nothing is lost), and goes through once the worker has sent it."""
    import pytest
    from sqlalchemy import text

    from petition.mail.worker import deliver_due
    from petition.signatures.signing import sign

    sign(name="A", affiliation="U", email="waiting@example.org", group="chinese")
    db.session.commit()
    with pytest.raises(SystemExit):  # Flask-Migrate logs the error ("still to be written") and exits
        downgrade(revision="0014")
    assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one() in stopped_at("0015")
    db.session.rollback()
    db.engine.dispose()
    upgrade()  # the worker of today sends it, on today's schema
    db.engine.dispose()
    assert deliver_due().sent == 1
    db.session.commit()
    downgrade(revision="0014")
    db.engine.dispose()
    assert db.session.execute(text("SELECT subject FROM outgoing_emails")).scalar_one()
    db.session.commit()
    upgrade()


def test_going_back_before_the_worker_settled_signings_waits_for_it(ctx, app, smtp_server):
    """Before 0018 the worker knew no signing from the form: a downgrade refuses while one waits to be
    settled (nothing is lost), and goes through once the worker has settled and sent it."""
    import pytest
    from sqlalchemy import text

    from petition.mail.worker import deliver_due
    from tests.support import csrf_token, signature_form

    client = app.test_client()
    form = {**signature_form(email="waiting@example.org"), "csrf_token": csrf_token(client, "/sign")}
    assert client.post("/sign", data=form).status_code == 302
    with pytest.raises(SystemExit):  # Flask-Migrate logs the error ("still to be settled") and exits
        downgrade(revision="0017")
    assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one() in stopped_at("0018")
    db.session.rollback()
    db.engine.dispose()
    upgrade()  # the worker of today settles and sends it, on today's schema
    db.engine.dispose()
    assert deliver_due().sent == 1
    db.session.commit()
    downgrade(revision="0017")
    db.engine.dispose()
    assert db.session.execute(text("SELECT template FROM outgoing_emails")).scalar_one() == "confirm"
    db.session.commit()
    upgrade()


def test_going_back_before_erasable_outbox_addresses_keeps_erased_rows_as_empty_ones(ctx):
    """Before 0019 every outbox row had an address and (unless still to be written) its text: an erased
    row goes back with empty ones, failed, so it can never be sent."""
    from sqlalchemy import false, literal, select, text

    from petition.db.types import now_utc
    from petition.mail.outbox import queue_email
    from petition.privacy.addresses import email_hash
    from petition.privacy.retention import erase_from_outbox
    from petition.signatures.models import Signature

    queue_email("reader@example.org", "News", "A body with a private link")
    db.session.commit()
    no_signature = select(Signature.id).where(false())
    the_address = select(literal(email_hash("reader@example.org")))
    assert erase_from_outbox(no_signature, the_address, now_utc()) == 1
    db.session.commit()
    downgrade(revision="0018")
    db.engine.dispose()
    row = db.session.execute(text("SELECT to_address, body, failed_at FROM outgoing_emails")).one()
    assert (row.to_address, row.body) == ("", "") and row.failed_at is not None
    db.session.commit()
    upgrade()


def test_sealing_addresses_reaches_existing_rows_and_going_back_opens_them(ctx):
    """Upgrading seals the addresses and texts a site already holds; downgrading opens them again."""
    from sqlalchemy import text

    from petition.mail.outbox import queue_email
    from petition.signatures.models import Signature
    from petition.signatures.signing import sign

    sign(name="A", affiliation="U", email="early@example.org", group="chinese")
    queue_email("reader@example.org", "News", "A body with a private link")
    db.session.commit()
    downgrade(revision="0020")
    db.engine.dispose()
    plain = db.session.execute(text("SELECT email, email_key FROM signatures")).one()
    assert plain == ("early@example.org", "early@example.org")
    bodies = db.session.execute(text("SELECT to_address, body FROM outgoing_emails ORDER BY id")).all()
    assert ("reader@example.org", "A body with a private link") in bodies
    db.session.commit()
    upgrade()
    db.engine.dispose()
    stored = db.session.execute(text("SELECT email, email_key FROM signatures")).one()
    assert stored.email.startswith("v1.") and "early" not in stored.email + stored.email_key
    raw = " ".join(str(v) for row in db.session.execute(text("SELECT * FROM outgoing_emails")).all() for v in row)
    assert "reader@example.org" not in raw and "private link" not in raw
    assert db.session.execute(db.select(Signature.email)).scalar_one() == "early@example.org"
    db.session.commit()


def stopped_at(revision):
    """Where a downgrade refused at `revision` leaves the database: there on SQLite (each step is its
    own transaction), or where it started on PostgreSQL (the whole downgrade is one transaction)."""
    from pathlib import Path

    newest = max(path.name[:4] for path in (Path(__file__).parent.parent / "migrations" / "versions").glob("0*.py"))
    return {revision, newest}


def test_a_mailings_progress_moves_to_its_own_table_and_back(ctx, smtp_server):
    """0026 carries how far each mailing has gone from updates and letter_versions into mailings, and
    back on downgrade; a downgrade waits while an email of a mailing is still to be written."""
    import pytest
    from sqlalchemy import text

    from petition.mail.mailings import queue_due_mailings
    from petition.mail.models import Mailing
    from petition.mail.worker import deliver_due
    from petition.signatures.signing import confirm_signature, sign

    downgrade(revision="0025")
    db.engine.dispose()
    insert_update = (
        "INSERT INTO updates (id, published_on, title_en, title_zh, body_en, body_zh, created_at, changed_at, "
        "mail_requested_at, mailed_up_to) VALUES (:id, '2026-12-01', 'T', '标题', 'B', '正文', :at, :at, :asked, :upto)"
    )
    db.session.execute(text(insert_update), {"id": 1, "at": "2026-12-01 00:00:00", "asked": None, "upto": 0})
    db.session.execute(
        text(insert_update), {"id": 2, "at": "2026-12-01 00:00:00", "asked": "2026-12-01 10:00:00", "upto": 7}
    )
    insert_version = (
        "INSERT INTO letter_versions (number, published_at, reason, text_en, text_zh, sha256_en, sha256_zh, "
        "mail_requested_at, mailed_up_to) VALUES (:n, '2026-12-01 00:00:00', 'r', 'A', '甲', 'a', 'b', :asked, :upto)"
    )
    db.session.execute(text(insert_version), {"n": 1, "asked": None, "upto": 0})
    db.session.execute(text(insert_version), {"n": 2, "asked": "2026-12-02 10:00:00", "upto": 3})
    db.session.commit()
    upgrade()
    db.engine.dispose()
    carried = {(m.kind, m.update_id, m.version_number, m.mailed_up_to) for m in db.session.query(Mailing)}
    assert carried == {("update", 2, None, 7), ("version", None, 2, 3)}
    assert db.session.query(Mailing).filter_by(update_id=2).one().mail_requested_at.hour == 10
    db.session.execute(text("UPDATE mailings SET mailed_up_to = 0 WHERE update_id = 2"))
    reader = confirm_signature(sign(name="R", affiliation="U", email="r@example.org", group="chinese").signature)
    reader.wants_updates = True
    reader_id = reader.id
    db.session.commit()
    assert queue_due_mailings() == 1  # the news (the reader signed version 2: no notice)
    db.session.commit()
    with pytest.raises(SystemExit):  # Flask-Migrate logs the error ("still to be written") and exits
        downgrade(revision="0025")
    db.session.rollback()
    db.engine.dispose()
    upgrade()
    db.engine.dispose()
    while deliver_due().sent:
        db.session.commit()
    db.session.commit()
    downgrade(revision="0025")
    db.engine.dispose()
    back = db.session.execute(text("SELECT id, mail_requested_at IS NOT NULL, mailed_up_to FROM updates ORDER BY id"))
    assert [tuple(row) for row in back] == [(1, False, 0), (2, True, reader_id)]
    versions = db.session.execute(text("SELECT number, mailed_up_to FROM letter_versions ORDER BY number"))
    assert [tuple(row) for row in versions] == [(1, 0), (2, 3)]
    db.session.commit()
    upgrade()


def test_signatures_from_before_the_chinese_index_are_found_by_any_part_and_back_again(ctx):
    """Migration 0028 indexes the signatures already there; it goes back to 0022's index and again."""
    from sqlalchemy import text

    from petition.organisers.search import Filters, count_matching
    from petition.signatures.models import Signature

    def found(word):
        count = count_matching(Filters(words=(word,)))[0]
        db.session.rollback()  # the migrations go on in transactions of their own
        return count

    downgrade(revision="0027")
    db.session.add(Signature(name="陈伟", affiliation="中山大学", email="chen@example.org", group="chinese"))
    db.session.commit()
    upgrade()
    assert [found(word) for word in ("伟", "大学", "山大", "陈伟", "学大")] == [1, 1, 1, 1, 0]
    downgrade(revision="0027")
    db.session.add(Signature(name="王伟", affiliation="北京大学", email="wang@example.org", group="chinese"))
    db.session.commit()
    if db.engine.dialect.name == "sqlite":  # 0022's index and triggers are back, and agree with the table
        db.session.execute(text("INSERT INTO signature_search(signature_search) VALUES ('integrity-check')"))
        db.session.commit()
    upgrade()
    assert [found(word) for word in ("伟", "大学", "京大", "王")] == [2, 2, 1, 1]
