"""The letter's own state, one row: when organisers closed signing by hand (NULL while open).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    state = op.create_table(
        'letter_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('id = 1', name=op.f('ck_letter_state_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_state')),
    )
    op.bulk_insert(state, [{'id': 1, 'closed_at': None}])


def downgrade():
    op.drop_table('letter_state')
