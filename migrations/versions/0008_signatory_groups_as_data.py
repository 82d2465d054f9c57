"""Groups of signatories as data: a signatory_groups table (key, order, labels in each language)
that signatures refer to, instead of a CHECK listing two groups. Adding a group is adding a row
(`flask --app wsgi groups add`), with its counter rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

FIRST_GROUPS = [
    {'key': 'international', 'position': 1, 'label_en': 'International scholar', 'label_zh': '国际学者',
     'plural_en': 'International scholars', 'plural_zh': '国际学者'},
    {'key': 'chinese', 'position': 2, 'label_en': 'Chinese scholar', 'label_zh': '中国学者',
     'plural_en': 'Chinese scholars', 'plural_zh': '中国学者'},
]
FK = 'fk_signatures_signatory_group_signatory_groups'


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    bind = op.get_bind()
    return bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def restore_triggers(sql_statements):
    for sql in sql_statements:
        op.get_bind().exec_driver_sql(sql)


def upgrade():
    groups = op.create_table(
        'signatory_groups',
        sa.Column('key', sa.String(length=20), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('label_en', sa.String(length=100), nullable=False),
        sa.Column('label_zh', sa.String(length=100), nullable=False),
        sa.Column('plural_en', sa.String(length=100), nullable=False),
        sa.Column('plural_zh', sa.String(length=100), nullable=False),
        sa.CheckConstraint("key <> '' AND key = lower(key)", name=op.f('ck_signatory_groups_key_plain')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_signatory_groups')),
        sa.UniqueConstraint('position', name=op.f('uq_signatory_groups_position')),
    )
    op.bulk_insert(groups, FIRST_GROUPS)
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', recreate='always' if sqlite else 'auto',
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_constraint('signatory_group_known', type_='check')
        batch_op.create_foreign_key(op.f(FK), 'signatory_groups', ['signatory_group'], ['key'])
    restore_triggers(triggers)


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers('signatures') if sqlite else []
    with op.batch_alter_table('signatures', recreate='always' if sqlite else 'auto',
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_constraint(op.f(FK), type_='foreignkey')
        batch_op.create_check_constraint('signatory_group_known', "signatory_group IN ('international', 'chinese')")
    restore_triggers(triggers)
    op.drop_table('signatory_groups')
