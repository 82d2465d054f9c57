"""Review before a name is listed (LIST_REVIEW): each signature's listing review, none (listed once it
counts, as before), pending, approved or declined. A signature under review counts but is not listed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('listing_review', sa.String(length=10), server_default='none', nullable=False))
        batch.create_check_constraint('listing_review_known',
                                      "listing_review IN ('none', 'pending', 'approved', 'declined')")
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint('listing_review_known', type_='check')
        batch.drop_column('listing_review')
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)
