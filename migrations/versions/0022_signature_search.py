"""Organisers find any signature by the words of its name and affiliation: a full-text index that
answers a word-prefix search at a million signatures in milliseconds, where a substring search
(LIKE '%...%') reads every row (0.2-0.3 s on SQLite). SQLite: an FTS5 table over the signatures
(external content, so the text is not stored twice), kept by triggers; PostgreSQL: a GIN index on
the same words.

On SQLite the index keeps which column holds a word but not where (detail=column: a prefix found in
every row is read in 50 ms, where detail=none took 150), no sizes (columnsize=0), and merges its
segments only when 64 pile up, so a signing's own transaction adds tens of microseconds, not the
few hundred of FTS5's default merging.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# The same words on both databases: letters and digits, case folded, accents kept.
SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE signature_search USING fts5(name, affiliation, content='signatures', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=column, columnsize=0)"
)
SQLITE_SETTINGS = [
    "INSERT INTO signature_search(signature_search, rank) VALUES ('automerge', 0)",
    "INSERT INTO signature_search(signature_search, rank) VALUES ('crisismerge', 64)",
    "INSERT INTO signature_search(signature_search) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = {
    'insert': """CREATE TRIGGER signature_search_insert AFTER INSERT ON signatures BEGIN
        INSERT INTO signature_search(rowid, name, affiliation) VALUES (NEW.id, NEW.name, NEW.affiliation); END""",
    'delete': """CREATE TRIGGER signature_search_delete AFTER DELETE ON signatures BEGIN
        INSERT INTO signature_search(signature_search, rowid, name, affiliation)
        VALUES ('delete', OLD.id, OLD.name, OLD.affiliation); END""",
    'update': """CREATE TRIGGER signature_search_update AFTER UPDATE OF name, affiliation ON signatures BEGIN
        INSERT INTO signature_search(signature_search, rowid, name, affiliation)
        VALUES ('delete', OLD.id, OLD.name, OLD.affiliation);
        INSERT INTO signature_search(rowid, name, affiliation) VALUES (NEW.id, NEW.name, NEW.affiliation); END""",
}
# petition/organisers/search.py writes the same expression, so that PostgreSQL uses the index.
POSTGRESQL_INDEX = (
    "CREATE INDEX ix_signatures_search ON signatures "
    "USING gin (to_tsvector('simple'::regconfig, name || ' ' || affiliation))"
)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_INDEX)
        return
    op.execute(SQLITE_TABLE)
    for statement in SQLITE_SETTINGS:
        op.execute(statement)
    for trigger in SQLITE_TRIGGERS.values():
        op.execute(trigger)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_signatures_search")
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER signature_search_{name}")
    op.execute("DROP TABLE signature_search")
