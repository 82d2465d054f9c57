"""The delivery copy is made by the worker, not in a web request: organisers' requests (jobs, claimed
with a lease like the outbox's emails, with their progress and any failure's reason) and the copies
made, kept as PDF in the database that every instance shares, one per language and content.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'delivery_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('content_key', sa.String(length=64), nullable=False),
        sa.Column('list_sha256', sa.String(length=64), nullable=False),
        sa.Column('letter_sha256', sa.String(length=64), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('names', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=True),
        sa.CheckConstraint("language IN ('en', 'zh')", name=op.f('ck_delivery_files_language_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_files')),
        sa.UniqueConstraint('content_key', name=op.f('uq_delivery_files_content_key')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'delivery_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('requested_by', sa.String(length=254), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('names_done', sa.Integer(), nullable=False),
        sa.Column('names_total', sa.Integer(), nullable=True),
        sa.Column('file_id', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.CheckConstraint("language IN ('en', 'zh')", name=op.f('ck_delivery_jobs_language_known')),
        sa.CheckConstraint("state IN ('queued', 'making', 'done', 'failed')", name=op.f('ck_delivery_jobs_state_known')),
        sa.ForeignKeyConstraint(['file_id'], ['delivery_files.id'], name=op.f('fk_delivery_jobs_file_id_delivery_files'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_jobs')),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table('delivery_jobs')
    op.drop_table('delivery_files')
