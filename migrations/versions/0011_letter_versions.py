"""Versions of the letter: each published text in both languages with its SHA-256, on each signature
the version its signer saw, and the outbox column for the notices sent when the letter changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def upgrade():
    op.create_table(
        'letter_versions',
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('text_en', sa.Text(), nullable=False),
        sa.Column('text_zh', sa.Text(), nullable=False),
        sa.Column('sha256_en', sa.String(length=64), nullable=False),
        sa.Column('sha256_zh', sa.String(length=64), nullable=False),
        sa.Column('mail_requested_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mailed_up_to', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.PrimaryKeyConstraint('number', name=op.f('pk_letter_versions')),
    )
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('letter_version', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_signatures_letter_version_letter_versions'), 'letter_versions',
                                 ['letter_version'], ['number'])
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('version_notice', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_outgoing_emails_version_notice_letter_versions'), 'letter_versions',
                                 ['version_notice'], ['number'])
        batch.create_unique_constraint('uq_outgoing_emails_version_signature', ['version_notice', 'signature_id'])


def downgrade():
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint('uq_outgoing_emails_version_signature', type_='unique')
        batch.drop_constraint(op.f('fk_outgoing_emails_version_notice_letter_versions'), type_='foreignkey')
        batch.drop_column('version_notice')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint(op.f('fk_signatures_letter_version_letter_versions'), type_='foreignkey')
        batch.drop_column('letter_version')
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)
    op.drop_table('letter_versions')
