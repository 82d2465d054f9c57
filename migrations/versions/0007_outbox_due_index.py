"""The outbox poll walks only unsent mail: a partial index on (next_attempt_at, id) for rows neither
sent nor failed replaces the index on next_attempt_at, which made every poll step over all the sent
mail kept until the purge (0.5 ms with none, 63 ms with 200,000 on SQLite).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

UNSENT = "sent_at IS NULL AND failed_at IS NULL"


def upgrade():
    op.drop_index('ix_outgoing_emails_next_attempt_at', table_name='outgoing_emails')
    op.create_index('ix_outgoing_emails_due', 'outgoing_emails', ['next_attempt_at', 'id'],
                    sqlite_where=sa.text(UNSENT), postgresql_where=sa.text(UNSENT))


def downgrade():
    op.drop_index('ix_outgoing_emails_due', table_name='outgoing_emails')
    op.create_index('ix_outgoing_emails_next_attempt_at', 'outgoing_emails', ['next_attempt_at'])
