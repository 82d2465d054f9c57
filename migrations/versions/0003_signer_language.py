"""The signer's language, so every email to them is in it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Everyone who signed before the site had a Chinese version signed in English.
    with op.batch_alter_table('signatures') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=False, server_default='en'))
    with op.batch_alter_table('signatures') as batch_op:
        batch_op.alter_column('language', server_default=None)
        batch_op.create_check_constraint('language_known', "language IN ('en', 'zh')")


def downgrade():
    with op.batch_alter_table('signatures') as batch_op:
        batch_op.drop_constraint('language_known', type_='check')
        batch_op.drop_column('language')
