"""Organisers find a Chinese name or affiliation by any part of it: "伟" finds 陈伟, "大学" finds
中山大学. Chinese is written without spaces, so the full-text index of 0022 holds a whole run of
characters as one word and finds it only from its start. Now the index also holds each CJK
character, and each pair of adjacent ones, as words of their own (as Lucene's CJK analyser does):
a Chinese search looks up its character (one) or its pairs (two or more), and the rows found are
checked for the whole text typed. Latin words are indexed and found as before.

A substring scan (instr, no index) answers such a search at a million signatures in 130 ms on
SQLite when nothing matches, twice that when the matches fill more than a page and are counted; the
index answers in 5-16 ms (docs/performance.md). Trigrams (FTS5's trigram tokenizer, pg_trgm) need
three characters, and Chinese words are often one or two: "伟", "大学" would read every row.

Both databases make the CJK words themselves (SQLite with GLOB, PostgreSQL with a regular
expressions, over the same ranges of characters), so any writer keeps the index right. SQLite: the
FTS5 table reads its content from a view, and its triggers write the same words; the view counts
along the text with a table of the positions 1 to 501 (a name, a space, an affiliation), as SQLite
has no generate_series. PostgreSQL: a second GIN index, of only the CJK words, on an immutable
function that the search calls too; 0022's index stays for the other words (one index of both made
a search for a word in every row three times slower, as the planner reads such a word row by row). A signing with a Chinese name costs SQLite's trigger some 30-50 microseconds more; one
without CJK characters is passed over at once. Upgrading rebuilds the index: about 90 s at a
million signatures on SQLite.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

"""
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# The characters written without spaces between words: kana, Han (with 々〆〇), Hangul syllables.
# petition/organisers/search.py reads the same ranges.
CJK_RANGES = [
    (0x3005, 0x3007), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x323AF),
]
POSITIONS = 200 + 1 + 300  # NAME_MAX, the space between, AFFILIATION_MAX


# One bracket expression of those characters, which SQLite's GLOB and PostgreSQL's regular expressions
# both read.
CJK_CLASS = "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES) + "]"


def cjk_words(text, positions, is_cjk, concat):
    """SQL: each CJK character of `text`, and each pair of adjacent ones, separated by spaces (NULL if
    there are none). `positions` is a FROM item of n from 1 (up to the text's length, at least),
    `is_cjk` makes the test of one character, `concat` is the database's aggregate that joins strings."""
    character, following = f"substr({text}, n, 1)", f"substr({text}, n + 1, 1)"
    return (
        f"(SELECT {concat}({character} || CASE WHEN {is_cjk(following)} THEN ' ' || substr({text}, n, 2)"
        f" ELSE '' END, ' ') FROM {positions} WHERE n <= length({text}) AND {is_cjk(character)})"
    )


# SQLite: the FTS5 table reads its content from a view that adds the CJK words of each signature,
# and its triggers write the same. A text without CJK characters is passed over at once.
def sqlite_words(row):
    text = f"({row}name || ' ' || {row}affiliation)"
    words = cjk_words(
        text, "signature_search_positions", lambda character: f"{character} GLOB '{CJK_CLASS}'", "group_concat"
    )
    return f"CASE WHEN {text} GLOB '*{CJK_CLASS}*' THEN {words} END"


SQLITE_POSITIONS = [
    "CREATE TABLE signature_search_positions (n INTEGER PRIMARY KEY)",
    f"""WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {POSITIONS})
        INSERT INTO signature_search_positions SELECT n FROM seq""",
]
SQLITE_VIEW = (
    f"CREATE VIEW signature_search_text AS SELECT id, name, affiliation, {sqlite_words('')} AS cjk FROM signatures"
)
SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE signature_search USING fts5(name, affiliation, cjk, content='signature_search_text', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=column, columnsize=0)"
)
SQLITE_SETTINGS = [
    "INSERT INTO signature_search(signature_search, rank) VALUES ('automerge', 0)",
    "INSERT INTO signature_search(signature_search, rank) VALUES ('crisismerge', 64)",
    "INSERT INTO signature_search(signature_search) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = {
    'insert': f"""CREATE TRIGGER signature_search_insert AFTER INSERT ON signatures BEGIN
        INSERT INTO signature_search(rowid, name, affiliation, cjk)
        VALUES (NEW.id, NEW.name, NEW.affiliation, {sqlite_words('NEW.')}); END""",
    'delete': f"""CREATE TRIGGER signature_search_delete AFTER DELETE ON signatures BEGIN
        INSERT INTO signature_search(signature_search, rowid, name, affiliation, cjk)
        VALUES ('delete', OLD.id, OLD.name, OLD.affiliation, {sqlite_words('OLD.')}); END""",
    'update': f"""CREATE TRIGGER signature_search_update AFTER UPDATE OF name, affiliation ON signatures BEGIN
        INSERT INTO signature_search(signature_search, rowid, name, affiliation, cjk)
        VALUES ('delete', OLD.id, OLD.name, OLD.affiliation, {sqlite_words('OLD.')});
        INSERT INTO signature_search(rowid, name, affiliation, cjk)
        VALUES (NEW.id, NEW.name, NEW.affiliation, {sqlite_words('NEW.')}); END""",
}

# 0022's, to go back to.
SQLITE_TABLE_0022 = (
    "CREATE VIRTUAL TABLE signature_search USING fts5(name, affiliation, content='signatures', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=column, columnsize=0)"
)
SQLITE_TRIGGERS_0022 = {
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

# PostgreSQL: a second GIN index, of only the CJK words, made by an immutable function that the index
# and petition/organisers/search.py both call (0022's index stays, for every other word). The runs
# of CJK characters, then each character, the pairs that start at even places in a run, and those
# that start at odd places (a pair after a CJK character, found left to right without overlapping).
POSTGRESQL_RUNS = f"regexp_replace(name || ' ' || affiliation, '[^{CJK_CLASS[1:-1]}]+', ' ', 'g')"
POSTGRESQL_FUNCTION = f"""CREATE FUNCTION signature_search_cjk(name text, affiliation text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple'::regconfig,
        regexp_replace({POSTGRESQL_RUNS}, '(\\S)', ' \\1', 'g') || ' '
        || regexp_replace({POSTGRESQL_RUNS}, '(\\S\\S)', ' \\1 ', 'g') || ' '
        || regexp_replace({POSTGRESQL_RUNS}, '(?<=\\S)(\\S\\S)', ' \\1 ', 'g'))
$$"""
POSTGRESQL_INDEX = (
    "CREATE INDEX ix_signatures_search_cjk ON signatures USING gin (signature_search_cjk(name, affiliation))"
)


def drop_sqlite_index():
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER signature_search_{name}")
    op.execute("DROP TABLE signature_search")


def create_sqlite_index(table, triggers):
    op.execute(table)
    for statement in SQLITE_SETTINGS:
        op.execute(statement)
    for trigger in triggers.values():
        op.execute(trigger)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_INDEX)
        return
    drop_sqlite_index()
    for statement in SQLITE_POSITIONS:
        op.execute(statement)
    op.execute(SQLITE_VIEW)
    create_sqlite_index(SQLITE_TABLE, SQLITE_TRIGGERS)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_signatures_search_cjk")
        op.execute("DROP FUNCTION signature_search_cjk(text, text)")
        return
    drop_sqlite_index()
    op.execute("DROP VIEW signature_search_text")
    op.execute("DROP TABLE signature_search_positions")
    create_sqlite_index(SQLITE_TABLE_0022, SQLITE_TRIGGERS_0022)
