"""Mail that comes in: a person's message the site did not act on is recorded as `unhandled` (and
moved to the organisers' folder by `flask mail fetch`) rather than `handled` and deleted.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-10

"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

BEFORE = "outcome IN ('handled', 'failed', 'too_large')"
AFTER = "outcome IN ('handled', 'unhandled', 'failed', 'too_large')"


def upgrade():
    with op.batch_alter_table("inbound_messages", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(batch.f("ck_inbound_messages_outcome_known"), type_="check")
        batch.create_check_constraint(batch.f("ck_inbound_messages_outcome_known"), AFTER)


def downgrade():
    # Before this revision such a message was recorded as handled (and deleted).
    op.execute("UPDATE inbound_messages SET outcome = 'handled' WHERE outcome = 'unhandled'")
    with op.batch_alter_table("inbound_messages", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(batch.f("ck_inbound_messages_outcome_known"), type_="check")
        batch.create_check_constraint(batch.f("ck_inbound_messages_outcome_known"), BEFORE)
