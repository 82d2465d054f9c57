"""Per-group running counts kept by triggers, so reading the counts never scans the signatures.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SHARDS = 16

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION signature_counts_apply() RETURNS trigger AS $$
DECLARE
    -- A random shard per change, drawn once (random() in a WHERE clause would be drawn per row):
    -- concurrent transactions rarely wait on the same row.
    chosen integer := floor(random() * %(shards)s)::integer;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.visible THEN
        UPDATE signature_counts SET n = n - 1
        WHERE signatory_group = OLD.signatory_group AND listed = OLD.listed AND shard = chosen;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.visible THEN
        UPDATE signature_counts SET n = n + 1
        WHERE signatory_group = NEW.signatory_group AND listed = NEW.listed AND shard = chosen;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
""" % {"shards": SHARDS}

# SQLite has one writer at a time, so one shard is enough there.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER signature_counts_insert AFTER INSERT ON signatures WHEN NEW.visible BEGIN
        UPDATE signature_counts SET n = n + 1
        WHERE signatory_group = NEW.signatory_group AND listed = NEW.listed AND shard = 0; END""",
    """CREATE TRIGGER signature_counts_delete AFTER DELETE ON signatures WHEN OLD.visible BEGIN
        UPDATE signature_counts SET n = n - 1
        WHERE signatory_group = OLD.signatory_group AND listed = OLD.listed AND shard = 0; END""",
    """CREATE TRIGGER signature_counts_update AFTER UPDATE OF visible, signatory_group, listed ON signatures BEGIN
        UPDATE signature_counts SET n = n - OLD.visible
        WHERE signatory_group = OLD.signatory_group AND listed = OLD.listed AND shard = 0;
        UPDATE signature_counts SET n = n + NEW.visible
        WHERE signatory_group = NEW.signatory_group AND listed = NEW.listed AND shard = 0; END""",
]


def upgrade():
    counts = op.create_table(
        'signature_counts',
        sa.Column('signatory_group', sa.String(length=20), nullable=False),
        sa.Column('listed', sa.Boolean(), nullable=False),
        sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('signatory_group', 'listed', 'shard', name=op.f('pk_signature_counts')),
    )
    op.bulk_insert(counts, [{'signatory_group': group, 'listed': listed, 'shard': shard, 'n': 0}
                            for group in ('international', 'chinese') for listed in (True, False)
                            for shard in range(SHARDS)])
    # Start from the truth.
    op.execute("""UPDATE signature_counts SET n = (
        SELECT count(*) FROM signatures s WHERE s.visible AND s.signatory_group = signature_counts.signatory_group
        AND s.listed = signature_counts.listed) WHERE shard = 0""")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_FUNCTION)
        op.execute("CREATE TRIGGER signature_counts_after AFTER INSERT OR DELETE OR UPDATE OF visible, signatory_group, listed "
                   "ON signatures FOR EACH ROW EXECUTE FUNCTION signature_counts_apply()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER signature_counts_after ON signatures")
        op.execute("DROP FUNCTION signature_counts_apply()")
    else:
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER signature_counts_{name}")
    op.drop_table('signature_counts')
