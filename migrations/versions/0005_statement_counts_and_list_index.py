"""Counts kept per statement on PostgreSQL, and an index for the unfiltered public list.

A row-level trigger that updates a counter row for every signature turns one large statement
(a bulk hide, a bulk load) into a long chain of versions of the same few rows in one transaction,
which PostgreSQL walks again on every update. Statement-level triggers with transition tables add
each statement's changes up first and update each counter once. SQLite updates in place, so its
row triggers stay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SHARDS = 16

APPLY = """
CREATE OR REPLACE FUNCTION signature_counts_apply_statement() RETURNS trigger AS $$
DECLARE
    chosen integer := floor(random() * %(shards)s)::integer;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE signature_counts AS c SET n = c.n - d.k
        FROM (SELECT signatory_group, listed, count(*) AS k FROM old_rows WHERE visible GROUP BY 1, 2) AS d
        WHERE c.signatory_group = d.signatory_group AND c.listed = d.listed AND c.shard = chosen;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE signature_counts AS c SET n = c.n + d.k
        FROM (SELECT signatory_group, listed, count(*) AS k FROM new_rows WHERE visible GROUP BY 1, 2) AS d
        WHERE c.signatory_group = d.signatory_group AND c.listed = d.listed AND c.shard = chosen;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
""" % {"shards": SHARDS}

STATEMENT_TRIGGERS = [
    "CREATE TRIGGER signature_counts_insert AFTER INSERT ON signatures REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION signature_counts_apply_statement()",
    "CREATE TRIGGER signature_counts_delete AFTER DELETE ON signatures REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION signature_counts_apply_statement()",
    "CREATE TRIGGER signature_counts_update AFTER UPDATE ON signatures "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION signature_counts_apply_statement()",
]


def upgrade():
    # Without this the unfiltered list sorts every listed signature to show the first hundred.
    op.create_index('ix_signatures_visible_listed_id', 'signatures', ['visible', 'listed', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER signature_counts_after ON signatures")
        op.execute("DROP FUNCTION signature_counts_apply()")
        op.execute(APPLY)
        for trigger in STATEMENT_TRIGGERS:
            op.execute(trigger)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER signature_counts_{name} ON signatures")
        op.execute("DROP FUNCTION signature_counts_apply_statement()")
        op.execute(ROW_LEVEL_FUNCTION)
        op.execute("CREATE TRIGGER signature_counts_after AFTER INSERT OR DELETE OR UPDATE OF visible, signatory_group, "
                   "listed ON signatures FOR EACH ROW EXECUTE FUNCTION signature_counts_apply()")
    op.drop_index('ix_signatures_visible_listed_id', table_name='signatures')


# The 0004 row-level function, restored on downgrade.
ROW_LEVEL_FUNCTION = """
CREATE OR REPLACE FUNCTION signature_counts_apply() RETURNS trigger AS $$
DECLARE
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
