"""A signing on the form queues one outbox row whatever its address (template 'signed'), with what the
signer gave (`signing_details`): the mail worker decides which email it becomes (a confirmation, or
"you have already signed") and, when it replaces an unconfirmed signature's details, reads them
there, then clears them. So the sign form writes the same rows, and takes as long, for an address
that has signed as for one that has not.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def upgrade():
    op.add_column('outgoing_emails', sa.Column('signing_details', sa.JSON(), nullable=True))


def downgrade():
    # Before this revision the worker knew no 'signed' (nor 'asked_again') row: one it has not
    # settled cannot go back.
    waiting = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM outgoing_emails WHERE template IN ('signed', 'asked_again') "
        "AND sent_at IS NULL AND failed_at IS NULL"
    ).scalar_one()
    if waiting:
        raise RuntimeError(
            f"{waiting} signings are still to be settled by the mail worker: run it until the outbox has none "
            "waiting, then downgrade.")
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('outgoing_emails') if sqlite else []
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_column('signing_details')
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)
