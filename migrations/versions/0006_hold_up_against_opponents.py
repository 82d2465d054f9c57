"""Holding up against opponents: ids never reused, an append-only audit log, organiser sessions
that logging out ends, the time a form took, and addresses in the form that goes on the envelope.

- SQLite gives a deleted row's id to the next row unless the table is AUTOINCREMENT, so "signature
  #15" in the audit log could later mean someone else. The tables are rebuilt with AUTOINCREMENT
  (their triggers are kept). PostgreSQL's sequences never hand out an id twice.
- The audit log refuses DELETE (and TRUNCATE on PostgreSQL) as it already refused UPDATE.
- organiser_sessions: one row per login, ended by logging out or a password change.
- signatures.fill_seconds: seconds from the form being shown to being sent (timing no longer flags).
- Addresses with a non-ASCII domain are stored with the domain in ASCII (IDNA), as they are now
  signed, where that does not collide with another signature.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID_TABLES = ('signatures', 'outgoing_emails', 'audit_log', 'organisers', 'login_attempts')

SQLITE_NO_DELETE = ("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
POSTGRESQL_NO_DELETE = [
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def rebuild_sqlite_table(table, autoincrement, drop_columns=()):
    """Copy the table into one with (or without) AUTOINCREMENT, keeping its triggers, which a
    rebuild would otherwise drop. SQLite starts the sequence after the highest id in use."""
    bind = op.get_bind()
    triggers = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()
    with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}) as batch_op:
        for column in drop_columns:
            batch_op.drop_column(column)
    for sql in triggers:
        bind.exec_driver_sql(sql)


def ascii_domains():
    """Store each address as the envelope carries it: the domain in ASCII."""
    from email_validator import EmailNotValidError, validate_email

    bind = op.get_bind()
    signatures = sa.table('signatures', sa.column('id', sa.Integer), sa.column('email', sa.String))
    taken = set(bind.execute(sa.select(signatures.c.email)).scalars())
    for signature_id, email in bind.execute(sa.select(signatures.c.id, signatures.c.email)).all():
        if email.isascii():
            continue
        try:
            ascii_email = validate_email(email, check_deliverability=False).ascii_email
        except EmailNotValidError:
            continue
        if ascii_email and ascii_email.lower() not in taken:
            bind.execute(signatures.update().where(signatures.c.id == signature_id).values(email=ascii_email.lower()))
            taken.add(ascii_email.lower())


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('signatures') as batch_op:
        batch_op.add_column(sa.Column('fill_seconds', sa.Float(), nullable=True))
    op.create_table(
        'organiser_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organiser_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTC_DATETIME, nullable=False),
        sa.Column('ended_at', UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'],
                                name=op.f('fk_organiser_sessions_organiser_id_organisers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organiser_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_organiser_sessions_token_hash')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_organiser_sessions_organiser_id'), 'organiser_sessions', ['organiser_id'])
    if sqlite:
        for table in ID_TABLES:
            rebuild_sqlite_table(table, autoincrement=True)
        op.execute(SQLITE_NO_DELETE)
    else:
        for trigger in POSTGRESQL_NO_DELETE:
            op.execute(trigger)
    ascii_domains()


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index(op.f('ix_organiser_sessions_organiser_id'), table_name='organiser_sessions')
    op.drop_table('organiser_sessions')
    if sqlite:
        op.execute("DROP TRIGGER audit_log_no_delete")
        for table in ID_TABLES:
            rebuild_sqlite_table(table, autoincrement=False,
                                 drop_columns=('fill_seconds',) if table == 'signatures' else ())
    else:
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_delete ON audit_log")
        op.drop_column('signatures', 'fill_seconds')
