"""The outbox's two rules "one email per update and signer" and "one notice per version and signer"
hold only for news and version notices: partial unique indexes (WHERE update_id / version_notice IS
NOT NULL) replace the unique constraints, which also indexed every signer email, where both are NULL
and never clash. The rules are the same; each new signature's confirmation now writes two index
entries fewer (on SQLite two pages fewer in the write-ahead log, in the write lock).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

RULES = {
    'uq_outgoing_emails_update_signature': 'update_id',
    'uq_outgoing_emails_version_signature': 'version_notice',
}


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def rebuilt_outbox(change):
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('outgoing_emails') if sqlite else []
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        change(batch)
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)


def upgrade():
    def drop_constraints(batch):
        for name in RULES:
            batch.drop_constraint(name, type_='unique')

    rebuilt_outbox(drop_constraints)
    for name, column in RULES.items():
        only_where = sa.text(f'{column} IS NOT NULL')
        op.create_index(name, 'outgoing_emails', [column, 'signature_id'], unique=True,
                        sqlite_where=only_where, postgresql_where=only_where)


def downgrade():
    for name in RULES:
        op.drop_index(name, table_name='outgoing_emails')

    def add_constraints(batch):
        for name, column in RULES.items():
            batch.create_unique_constraint(name, [column, 'signature_id'])

    rebuilt_outbox(add_constraints)
