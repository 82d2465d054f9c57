"""Confirmation, moderation and abuse protection: signature states, the outbox, the audit log, login attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC_DATETIME, nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('ip_hash', sa.String(length=64), nullable=False),
        sa.Column('succeeded', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    op.create_index(op.f('ix_login_attempts_created_at'), 'login_attempts', ['created_at'])
    op.create_index(op.f('ix_login_attempts_email'), 'login_attempts', ['email'])
    op.create_index(op.f('ix_login_attempts_ip_hash'), 'login_attempts', ['ip_hash'])

    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC_DATETIME, nullable=False),
        sa.Column('organiser_id', sa.Integer(), nullable=False),
        sa.Column('organiser_email', sa.String(length=254), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_audit_log_organiser_id_organisers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index(op.f('ix_audit_log_created_at'), 'audit_log', ['created_at'])
    # The audit log is never edited: the database itself refuses updates.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
                   "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")

    op.create_table(
        'outgoing_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=True),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', UTC_DATETIME, nullable=False),
        sa.Column('next_attempt_at', UTC_DATETIME, nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('sent_at', UTC_DATETIME, nullable=True),
        sa.Column('failed_at', UTC_DATETIME, nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'],
                                name=op.f('fk_outgoing_emails_signature_id_signatures'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_emails')),
    )
    op.create_index(op.f('ix_outgoing_emails_next_attempt_at'), 'outgoing_emails', ['next_attempt_at'])
    op.create_index(op.f('ix_outgoing_emails_signature_id'), 'outgoing_emails', ['signature_id'])

    # Signatures made before confirmation existed were already public: they stay confirmed and visible.
    with op.batch_alter_table('signatures') as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='confirmed'))
        batch_op.add_column(sa.Column('confirmed_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('suspected_bot', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('visible', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('secret', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('ip_hash', sa.String(length=64), nullable=True))
    signatures = sa.table('signatures', sa.column('id', sa.Integer), sa.column('secret', sa.String))
    connection = op.get_bind()
    for (signature_id,) in connection.execute(sa.select(signatures.c.id)).all():
        connection.execute(signatures.update().where(signatures.c.id == signature_id)
                           .values(secret=secrets.token_urlsafe(16)))
    with op.batch_alter_table('signatures') as batch_op:
        for column in ('status', 'hidden', 'suspected_bot', 'visible'):
            batch_op.alter_column(column, server_default=None)
        batch_op.alter_column('secret', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_check_constraint('status_known', "status IN ('pending', 'confirmed')")
        batch_op.create_check_constraint(
            'visible_rule', "visible = (status = 'confirmed' AND NOT hidden AND NOT suspected_bot)")
        batch_op.drop_index('ix_signatures_listed_group_id')
        batch_op.create_index('ix_signatures_visible_listed_group_id', ['visible', 'listed', 'signatory_group', 'id'])


def downgrade():
    with op.batch_alter_table('signatures') as batch_op:
        batch_op.drop_index('ix_signatures_visible_listed_group_id')
        batch_op.create_index('ix_signatures_listed_group_id', ['listed', 'signatory_group', 'id'])
        batch_op.drop_constraint('visible_rule', type_='check')
        batch_op.drop_constraint('status_known', type_='check')
        for column in ('ip_hash', 'secret', 'visible', 'suspected_bot', 'hidden', 'confirmed_at', 'status'):
            batch_op.drop_column(column)
    op.drop_table('outgoing_emails')
    op.drop_table('audit_log')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table('login_attempts')
