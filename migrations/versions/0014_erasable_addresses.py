"""Addresses that can be erased: `email` may be NULL once `privacy purge` has erased it (after the
letter closed), a keyed hash of every address (unique, so an erased address still cannot sign twice),
the mailbox an address reaches (dots and +tags folded where the provider ignores them; organisers see
other spellings of one mailbox as possible duplicates), and when the address was erased.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def upgrade():
    # The site's own functions, so existing rows get exactly what new ones will (the hash is keyed
    # with the running configuration's key: `flask db upgrade` runs inside the app).
    from petition.privacy.addresses import email_hash, mailbox_key

    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('email_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('email_key', sa.String(length=254), nullable=True))
        batch.add_column(sa.Column('email_erased_at', sa.DateTime(timezone=True), nullable=True))
        batch.alter_column('email', existing_type=sa.String(length=254), nullable=True)
    signatures = sa.table('signatures', sa.column('id', sa.Integer), sa.column('email', sa.String),
                          sa.column('email_hash', sa.String), sa.column('email_key', sa.String))
    rows = op.get_bind().execute(sa.select(signatures.c.id, signatures.c.email)).all()
    for id_, email in rows:
        op.get_bind().execute(signatures.update().where(signatures.c.id == id_).values(
            email_hash=email_hash(email), email_key=mailbox_key(email)))
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.create_unique_constraint(batch.f('uq_signatures_email_hash'), ['email_hash'])
        batch.create_index(batch.f('ix_signatures_email_key'), ['email_key'], unique=False)
    # Both rebuilds dropped the counters' triggers; the backfill in between changes no count.
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)


def downgrade():
    # Erased addresses cannot come back: those rows get a placeholder that says so.
    op.get_bind().exec_driver_sql(
        "UPDATE signatures SET email = 'erased-' || id || '@invalid' WHERE email IS NULL")
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_index(batch.f('ix_signatures_email_key'))
        batch.drop_constraint(batch.f('uq_signatures_email_hash'), type_='unique')
        batch.drop_column('email_erased_at')
        batch.drop_column('email_key')
        batch.drop_column('email_hash')
        batch.alter_column('email', existing_type=sa.String(length=254), nullable=False)
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)
