"""News about the letter: updates in both languages, signers' "email me news" choice, and the outbox
columns for news emails (which update, the one-click unsubscribe address; one email per update and
signer).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def upgrade():
    op.create_table(
        'updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('published_on', sa.Date(), nullable=False),
        sa.Column('title_en', sa.String(length=200), nullable=False),
        sa.Column('title_zh', sa.String(length=200), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('body_zh', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mail_requested_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mailed_up_to', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_updates')),
        sqlite_autoincrement=True,
    )
    # A plain ADD COLUMN: SQLite keeps the table (and its counting triggers) as it is.
    op.add_column('signatures', sa.Column('wants_updates', sa.Boolean(), server_default=sa.text('false'),
                                          nullable=False))
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('update_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('unsubscribe_url', sa.String(length=500), nullable=True))
        batch.create_foreign_key(op.f('fk_outgoing_emails_update_id_updates'), 'updates', ['update_id'], ['id'],
                                 ondelete='CASCADE')
        batch.create_unique_constraint('uq_outgoing_emails_update_signature', ['update_id', 'signature_id'])


def downgrade():
    with op.batch_alter_table('outgoing_emails', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint('uq_outgoing_emails_update_signature', type_='unique')
        batch.drop_constraint(op.f('fk_outgoing_emails_update_id_updates'), type_='foreignkey')
        batch.drop_column('unsubscribe_url')
        batch.drop_column('update_id')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_column('wants_updates')
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)
    op.drop_table('updates')
