"""Mailings: how far the emailing of an update, or of the notices that the letter changed, has gone is
a row of its own (mailings), no longer two columns on updates and on letter_versions. Every email of
a mailing is now queued as a row naming its template ("update", "letter_changed") and written by the
worker when it is sent.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

# The columns the mailing's state lived in before, on each table, and the kind and column it is now.
SUBJECTS = (('updates', 'id', 'update', 'update_id'), ('letter_versions', 'number', 'version', 'version_number'))


def upgrade():
    op.create_table(
        'mailings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('update_id', sa.Integer(), nullable=True),
        sa.Column('version_number', sa.Integer(), nullable=True),
        sa.Column('mail_requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('mailed_up_to', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.CheckConstraint(
            "(kind = 'update' AND update_id IS NOT NULL AND version_number IS NULL)"
            " OR (kind = 'version' AND version_number IS NOT NULL AND update_id IS NULL)",
            name=op.f('ck_mailings_kind_names_its_subject')),
        sa.ForeignKeyConstraint(['update_id'], ['updates.id'], name=op.f('fk_mailings_update_id_updates'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_number'], ['letter_versions.number'],
                                name=op.f('fk_mailings_version_number_letter_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mailings')),
        sa.UniqueConstraint('update_id', name=op.f('uq_mailings_update_id')),
        sa.UniqueConstraint('version_number', name=op.f('uq_mailings_version_number')),
        sqlite_autoincrement=True,
    )
    for table, key, kind, column in SUBJECTS:
        op.execute(
            f"INSERT INTO mailings (kind, {column}, mail_requested_at, mailed_up_to) "
            f"SELECT '{kind}', {key}, mail_requested_at, mailed_up_to FROM {table} "
            f"WHERE mail_requested_at IS NOT NULL ORDER BY {key}")
        # SQLite (3.35 and later) drops a column in place, keeping the table's triggers.
        op.drop_column(table, 'mailed_up_to')
        op.drop_column(table, 'mail_requested_at')


def downgrade():
    # Before this revision only signer emails were written when sent: a mailing's email still to be
    # written cannot go back (the worker of then would fail it).
    waiting = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM outgoing_emails WHERE template IN ('update', 'letter_changed') "
        "AND body IS NULL AND sent_at IS NULL AND failed_at IS NULL").scalar_one()
    if waiting:
        raise RuntimeError(
            f"{waiting} news emails or notices are still to be written and sent: run the mail worker until "
            "the outbox has none waiting, then downgrade.")
    for table, key, kind, column in SUBJECTS:
        op.add_column(table, sa.Column('mail_requested_at', sa.DateTime(timezone=True), nullable=True))
        op.add_column(table, sa.Column('mailed_up_to', sa.Integer(), server_default=sa.text('0'), nullable=False))
        for name in ('mail_requested_at', 'mailed_up_to'):
            op.execute(
                f"UPDATE {table} SET {name} = (SELECT mailings.{name} FROM mailings "
                f"WHERE mailings.{column} = {table}.{key}) "
                f"WHERE {key} IN (SELECT {column} FROM mailings WHERE {column} IS NOT NULL)")
    op.drop_table('mailings')
