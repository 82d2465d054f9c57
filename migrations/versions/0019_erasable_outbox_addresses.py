"""Erasing an address reaches the outbox: an email's `to_address` may be NULL once the address it
went to has been erased (`privacy purge`, with its written text and links), and such a row need not
keep its text (the check written_or_to_write becomes written_to_write_or_erased).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

WRITTEN_OR_TO_WRITE = "template IS NOT NULL OR (subject IS NOT NULL AND body IS NOT NULL)"
OR_ERASED = "template IS NOT NULL OR to_address IS NULL OR (subject IS NOT NULL AND body IS NOT NULL)"


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
    def change(batch):
        batch.alter_column('to_address', existing_type=sa.String(length=254), nullable=True)
        batch.drop_constraint('written_or_to_write', type_='check')
        batch.create_check_constraint('written_to_write_or_erased', OR_ERASED)

    rebuilt_outbox(change)


def downgrade():
    # Before this revision every row kept an address and, unless still to be written, its text: an
    # erased row keeps an empty address and empty text, and can never be sent (it has failed).
    op.get_bind().exec_driver_sql(
        "UPDATE outgoing_emails SET subject = coalesce(subject, ''), body = coalesce(body, '') "
        "WHERE to_address IS NULL AND template IS NULL")
    op.get_bind().exec_driver_sql("UPDATE outgoing_emails SET to_address = '' WHERE to_address IS NULL")

    def change(batch):
        batch.drop_constraint('written_to_write_or_erased', type_='check')
        batch.create_check_constraint('written_or_to_write', WRITTEN_OR_TO_WRITE)
        batch.alter_column('to_address', existing_type=sa.String(length=254), nullable=False)

    rebuilt_outbox(change)
