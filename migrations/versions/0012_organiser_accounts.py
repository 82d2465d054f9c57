"""Safer organiser accounts: a role per account (viewer, moderator, admin; existing accounts stay
admins), disabling an account, two-factor sign-in (a TOTP secret, when it was enrolled, the last time
step accepted, and single-use recovery codes kept as hashes), and each session's last activity for
the idle timeout.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisers', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('role', sa.String(length=20), server_default='admin', nullable=False))
        batch.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('totp_last_step', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch.create_check_constraint('role_known', "role IN ('viewer', 'moderator', 'admin')")
    with op.batch_alter_table('organiser_sessions', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'organiser_recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organiser_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'],
                                name=op.f('fk_organiser_recovery_codes_organiser_id_organisers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organiser_recovery_codes')),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('organiser_recovery_codes') as batch:
        batch.create_index(batch.f('ix_organiser_recovery_codes_organiser_id'), ['organiser_id'], unique=False)


def downgrade():
    op.drop_table('organiser_recovery_codes')
    with op.batch_alter_table('organiser_sessions', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_column('last_seen_at')
    with op.batch_alter_table('organisers', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_constraint('role_known', type_='check')
        batch.drop_column('totp_last_step')
        batch.drop_column('totp_enrolled_at')
        batch.drop_column('totp_secret')
        batch.drop_column('disabled_at')
        batch.drop_column('role')
