"""Mail that comes in (`flask mail fetch`): each message read from the site's mailbox is recorded,
by its mailbox, the folder's UIDVALIDITY and its UID, in the transaction that handles it, so a run
stopped before the message left the mailbox never handles it twice.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'inbound_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailbox', sa.String(length=300), nullable=False),
        sa.Column('uid_validity', sa.BigInteger(), nullable=False),
        sa.Column('uid', sa.BigInteger(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('error', sa.String(length=100), nullable=True),
        sa.CheckConstraint("outcome IN ('handled', 'failed', 'too_large')",
                           name=op.f('ck_inbound_messages_outcome_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
        sa.UniqueConstraint('mailbox', 'uid_validity', 'uid', name=op.f('uq_inbound_messages_key')),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table('inbound_messages')
