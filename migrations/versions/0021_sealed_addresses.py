"""Addresses sealed at rest: a signature's address, and an outbox row's address and text, are stored
encrypted under ADDRESS_KEY (petition/privacy/sealing.py), so a copied database names no one. What the
database compared in clear it now compares by keyed hash: one address signs once by `email_hash`
(already unique), the mailbox by `email_key` (now a keyed hash of it), the domain by the new
`email_domain_hash` (hiding many by domain), an outbox row's address by the new `to_hash`. The
address's own checks (length, lower case) and its unique constraint go: a sealed text has neither,
and the hash holds the rule.

Upgrading seals every address and text with the running configuration's ADDRESS_KEY; downgrading
opens them again (and works the mailbox out of the address in clear, as before).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

EMAIL_MAX = 254
SIGNATURES = sa.table('signatures', sa.column('id', sa.Integer), sa.column('email', sa.Text),
                      sa.column('email_key', sa.String), sa.column('email_domain_hash', sa.String))
OUTBOX = sa.table('outgoing_emails', sa.column('id', sa.Integer), sa.column('to_address', sa.Text),
                  sa.column('to_hash', sa.String), sa.column('body', sa.Text))


def keeping_triggers(table):
    """SQLite drops a table's triggers when batch mode rebuilds it: read them first, put them back after."""
    return op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).scalars().all()


def rebuilt(table, change):
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = keeping_triggers(table) if sqlite else []
    with op.batch_alter_table(table, table_kwargs={'sqlite_autoincrement': True}) as batch:
        change(batch)
    for sql in triggers:
        op.get_bind().exec_driver_sql(sql)


def awaiting_listing_index(columns):
    """The partial index of names kept off the list (0017), with these columns. Upgrading adds
    listing_review to it: once the table is rebuilt, SQLite (no statistics) otherwise preferred the
    wider index of listed rows for the count every list page makes."""
    where = sa.text("listing_review IN ('pending', 'declined')")
    op.drop_index('ix_signatures_awaiting_listing', table_name='signatures')
    op.create_index('ix_signatures_awaiting_listing', 'signatures', columns, unique=False,
                    sqlite_where=where, postgresql_where=where)


def rows(statement):
    return op.get_bind().execute(statement).all()


def upgrade():
    # The site's own functions and key, so existing rows get exactly what new ones will (`flask db
    # upgrade` runs inside the app, with its configuration).
    from petition.privacy.addresses import domain_hash, email_hash, mailbox_hash
    from petition.privacy.sealing import seal

    def signatures_change(batch):
        batch.drop_constraint(batch.f('ck_signatures_email_length'), type_='check')
        batch.drop_constraint(batch.f('ck_signatures_email_lower_case'), type_='check')
        batch.drop_constraint(batch.f('uq_signatures_email'), type_='unique')
        batch.alter_column('email', existing_type=sa.String(length=EMAIL_MAX), type_=sa.Text(), existing_nullable=True)
        batch.alter_column('email_key', existing_type=sa.String(length=EMAIL_MAX), type_=sa.String(length=64))
        batch.add_column(sa.Column('email_domain_hash', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_signatures_email_domain_hash'), ['email_domain_hash'], unique=False)

    def outbox_change(batch):
        batch.alter_column('to_address', existing_type=sa.String(length=EMAIL_MAX), type_=sa.Text(),
                           existing_nullable=True)
        batch.add_column(sa.Column('to_hash', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_outgoing_emails_to_hash'), ['to_hash'], unique=False)

    # The mailbox keys are read before the column narrows to a hash's length.
    signed = rows(sa.select(SIGNATURES.c.id, SIGNATURES.c.email).where(SIGNATURES.c.email.is_not(None)))
    op.get_bind().execute(sa.update(SIGNATURES).values(email_key=None))
    rebuilt('signatures', signatures_change)
    for id_, email in signed:
        op.get_bind().execute(sa.update(SIGNATURES).where(SIGNATURES.c.id == id_).values(
            email=seal(email), email_key=mailbox_hash(email), email_domain_hash=domain_hash(email)))

    awaiting_listing_index(['visible', 'listed', 'signatory_group', 'listing_review'])

    rebuilt('outgoing_emails', outbox_change)
    for id_, to_address, body in rows(sa.select(OUTBOX.c.id, OUTBOX.c.to_address, OUTBOX.c.body)):
        op.get_bind().execute(sa.update(OUTBOX).where(OUTBOX.c.id == id_).values(
            to_address=seal(to_address) if to_address else to_address,
            to_hash=email_hash(to_address) if to_address else None,
            body=seal(body) if body is not None else None))


def downgrade():
    from petition.privacy.addresses import mailbox_key
    from petition.privacy.sealing import unseal

    for id_, to_address, body in rows(sa.select(OUTBOX.c.id, OUTBOX.c.to_address, OUTBOX.c.body)):
        op.get_bind().execute(sa.update(OUTBOX).where(OUTBOX.c.id == id_).values(
            to_address=unseal(to_address) if to_address else to_address,
            body=unseal(body) if body is not None else None))

    def outbox_change(batch):
        batch.drop_index(batch.f('ix_outgoing_emails_to_hash'))
        batch.drop_column('to_hash')
        batch.alter_column('to_address', existing_type=sa.Text(), type_=sa.String(length=EMAIL_MAX),
                           existing_nullable=True)

    rebuilt('outgoing_emails', outbox_change)

    signed = rows(sa.select(SIGNATURES.c.id, SIGNATURES.c.email).where(SIGNATURES.c.email.is_not(None)))
    opened = [(id_, unseal(email)) for id_, email in signed]
    op.get_bind().execute(sa.update(SIGNATURES).values(email=None, email_key=None))

    def signatures_change(batch):
        batch.drop_index(batch.f('ix_signatures_email_domain_hash'))
        batch.drop_column('email_domain_hash')
        batch.alter_column('email_key', existing_type=sa.String(length=64), type_=sa.String(length=EMAIL_MAX))
        batch.alter_column('email', existing_type=sa.Text(), type_=sa.String(length=EMAIL_MAX), existing_nullable=True)
        batch.create_unique_constraint(batch.f('uq_signatures_email'), ['email'])
        batch.create_check_constraint(batch.f('ck_signatures_email_length'), f'length(email) BETWEEN 3 AND {EMAIL_MAX}')
        batch.create_check_constraint(batch.f('ck_signatures_email_lower_case'), 'email = lower(email)')

    rebuilt('signatures', signatures_change)
    awaiting_listing_index(['visible', 'listed', 'signatory_group'])
    for id_, email in opened:
        op.get_bind().execute(sa.update(SIGNATURES).where(SIGNATURES.c.id == id_).values(
            email=email, email_key=mailbox_key(email)))
