"""Fill an empty, migrated database with N confirmed signatures, fast (four a second from 1 January
2026, so up to about ten million fit in January). Every other signature (the Chinese group's) has a
Chinese name and a Chinese university before its Latin ones, as many on the real site do: a common
surname and one or two given characters ("伟" is in about 1 in 25 of them), and one of
twelve universities (all but one end in 大学).

Both databases make the rows themselves (a recursive CTE in SQLite, generate_series in PostgreSQL),
so no Python runs per row. The runner then reconciles the counters (`flask counts reconcile`)."""

import sqlite3
import time

# The benchmark's ADDRESS_KEY (as public as its SECRET_KEY): the site it serves opens what this seals.
BENCH_ADDRESS_KEY = "YmVuY2htYXJrLWFkZHJlc3Mta2V5LW9mLTMyYnl0ZXM"


def sealed_address():
    """One address sealed as the site stores addresses, for every seeded row: each row is still opened
    when read (the export, the dashboard), as a real one would be. Made here, since AES is not SQL."""
    from petition.privacy.sealing import Keys

    return Keys(BENCH_ADDRESS_KEY, []).seal("scholar@example.edu")


# Twenty common surnames, forty given-name characters, twelve universities.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文玉兰晨阳宇浩然欣怡子轩思雨梓"
UNIVERSITIES = [
    "北京大学",
    "清华大学",
    "中山大学",
    "复旦大学",
    "浙江大学",
    "南京大学",
    "武汉大学",
    "厦门大学",
    "山东大学",
    "暨南大学",
    "华南理工大学",
    "中国科学院",
]


def chinese_prefix(universities):
    """SQL (both databases): the Chinese name and university that come first in row i's name and
    affiliation (odd rows), or nothing (even rows); `universities` is the SQL that picks one by i."""
    name = (
        f"substr('{SURNAMES}', (i / 2) % 20 + 1, 1) || substr('{GIVEN}', (i / 40) % 40 + 1, 1)"
        f" || CASE WHEN i % 3 = 0 THEN '' ELSE substr('{GIVEN}', (i / 1600) % 40 + 1, 1) END"
    )
    return (
        f"CASE WHEN i % 2 = 1 THEN {name} || ' ' ELSE '' END",
        f"CASE WHEN i % 2 = 1 THEN {universities} || ' ' ELSE '' END",
    )


SQLITE_NAME, SQLITE_UNIVERSITY = chinese_prefix(
    "json_extract('[" + ",".join(f'"{u}"' for u in UNIVERSITIES) + "]', '$[' || ((i / 2) % 12) || ']')"
)
POSTGRESQL_NAME, POSTGRESQL_UNIVERSITY = (
    part.replace("%", "%%")
    for part in chinese_prefix("(ARRAY[" + ",".join(f"'{u}'" for u in UNIVERSITIES) + "])[(i / 2) % 12 + 1]")
)

SQLITE_SEED = f"""
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
INSERT INTO signatures (id, name, affiliation, email, signatory_group, listed, signed_at, status, confirmed_at,
                        hidden, suspected_bot, visible, secret, language)
SELECT i, {SQLITE_NAME} || 'Scholar ' || i, {SQLITE_UNIVERSITY} || 'University ' || (i % 997) || ', Department ' || (i % 13),
       :sealed,
       CASE WHEN i % 2 THEN 'chinese' ELSE 'international' END, i % 10 != 0,
       printf('2026-01-%02d %02d:%02d:%02d', 1 + (i / 4) / 86400, ((i / 4) / 3600) % 24, ((i / 4) / 60) % 60, (i / 4) % 60),
       'confirmed',
       printf('2026-01-%02d %02d:%02d:%02d', 1 + (i / 4) / 86400, ((i / 4) / 3600) % 24, ((i / 4) / 60) % 60, (i / 4) % 60),
       0, 0, 1, lower(hex(randomblob(11))), CASE WHEN i % 2 THEN 'zh' ELSE 'en' END
FROM seq
"""


def seed_sqlite(path, n):
    """Rows made by SQLite itself (a recursive CTE), in one transaction: no Python per row."""
    connection = sqlite3.connect(path, isolation_level=None)
    # No journal while loading an empty database (nothing to roll back to); WAL again afterwards,
    # as the site runs it.
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -400000")
    connection.execute("BEGIN")
    connection.execute(SQLITE_SEED, {"n": n, "sealed": sealed_address()})
    connection.execute("COMMIT")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.close()


POSTGRESQL_SEED = f"""
INSERT INTO signatures (id, name, affiliation, email, signatory_group, listed, signed_at, status, confirmed_at,
                        hidden, suspected_bot, visible, secret, language)
SELECT i, {POSTGRESQL_NAME} || 'Scholar ' || i,
       {POSTGRESQL_UNIVERSITY} || 'University ' || (i %% 997) || ', Department ' || (i %% 13),
       %(sealed)s,
       CASE WHEN i %% 2 = 1 THEN 'chinese' ELSE 'international' END, i %% 10 <> 0,
       timestamptz '2026-01-01 00:00:00+00' + (i / 4) * interval '1 second', 'confirmed',
       timestamptz '2026-01-01 00:00:00+00' + (i / 4) * interval '1 second',
       false, false, true, substr(md5(i::text), 1, 22), CASE WHEN i %% 2 = 1 THEN 'zh' ELSE 'en' END
FROM generate_series(1, %(n)s) AS i
"""


def seed_postgresql(url, n):
    """Rows made by PostgreSQL itself (generate_series), in one statement."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute(POSTGRESQL_SEED, {"n": n, "sealed": sealed_address()})
        connection.execute("SELECT setval(pg_get_serial_sequence('signatures', 'id'), %(n)s)", {"n": n})
        connection.execute("ANALYZE signatures")


def seed(database_url, n):
    """Returns the seconds it took."""
    started = time.perf_counter()
    if database_url.startswith("sqlite:///"):
        seed_sqlite(database_url[len("sqlite:///") :], n)
    else:
        seed_postgresql(database_url, n)
    return time.perf_counter() - started


def add_pending_with_links(app, n, language="en"):
    """Add n pending signatures through the site's own rules and return their confirmation paths."""
    from petition.extensions import db
    from petition.signatures.models import Signature
    from petition.signatures.tokens import CONFIRM, make_token

    paths = []
    with app.app_context():
        start = (db.session.query(db.func.max(Signature.id)).scalar() or 0) + 1
        signatures = [
            Signature(
                name=f"Pending {start + i}",
                affiliation="Bench University",
                email=f"pending{start + i:08d}@bench.example.org",
                group="international",
                language=language,
            )
            for i in range(n)
        ]
        db.session.add_all(signatures)
        db.session.commit()
        for signature in signatures:
            paths.append(f"/{language}/confirm/{make_token(signature, CONFIRM)}")
    return paths
