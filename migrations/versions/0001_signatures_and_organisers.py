"""Signatures and organisers: the tables of the first release.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 06:21:18.772659

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_organisers_email_lower_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisers')),
    sa.UniqueConstraint('email', name=op.f('uq_organisers_email'))
    )
    op.create_table('signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('affiliation', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('signatory_group', sa.String(length=20), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("signatory_group IN ('international', 'chinese')", name=op.f('ck_signatures_signatory_group_known')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_signatures_email_lower_case')),
    sa.CheckConstraint('length(affiliation) BETWEEN 1 AND 300', name=op.f('ck_signatures_affiliation_length')),
    sa.CheckConstraint('length(email) BETWEEN 3 AND 254', name=op.f('ck_signatures_email_length')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 200', name=op.f('ck_signatures_name_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    sa.UniqueConstraint('email', name=op.f('uq_signatures_email'))
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_listed_group_id', ['listed', 'signatory_group', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_listed_group_id')

    op.drop_table('signatures')
    op.drop_table('organisers')
