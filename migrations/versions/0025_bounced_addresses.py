"""When a signer's address bounced: a delivery status report (sent back to the sign-by-email address)
said an email the site sent there could not be delivered. Organisers see it beside the address.

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-08

"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('signatures', sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # SQLite (3.35 and later) drops a column in place, keeping the table's triggers.
    op.drop_column('signatures', 'bounced_at')
