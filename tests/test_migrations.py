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


def test_the_migrations_build_exactly_what_the_models_describe(ctx):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
