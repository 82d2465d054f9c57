"""Signer emails written when they are sent: an outbox row may name the signer email to write
(`template`: confirm, already_confirmed, already_pending, listing_declined) instead of carrying its
subject and body. The worker writes it, in the signer's language, just before sending it and keeps
what it sent; signing no longer spends its time (and its hold on SQLite's write lock) writing it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('outgoing_emails') if sqlite else []
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('template', sa.String(length=40), nullable=True))
        batch.alter_column('subject', existing_type=sa.String(length=300), nullable=True)
        batch.alter_column('body', existing_type=sa.Text(), nullable=True)
        batch.create_check_constraint(
            'written_or_to_write', "template IS NOT NULL OR (subject IS NOT NULL AND body IS NOT NULL)")
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)


def downgrade():
    # Before this revision every row carried its text: one still to be written cannot go back.
    waiting = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM outgoing_emails WHERE body IS NULL AND failed_at IS NULL").scalar_one()
    if waiting:
        raise RuntimeError(
            f"{waiting} emails are still to be written and sent: run the mail worker until the outbox has "
            "none waiting, then downgrade.")
    # Failed before they could be written (their signature was gone): they will never be sent.
    op.get_bind().exec_driver_sql(
        "UPDATE outgoing_emails SET subject = '', body = '' WHERE body IS NULL OR subject IS NULL")
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('outgoing_emails') if sqlite else []
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint('written_or_to_write', type_='check')
        batch.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch.alter_column('subject', existing_type=sa.String(length=300), nullable=False)
        batch.drop_column('template')
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)
