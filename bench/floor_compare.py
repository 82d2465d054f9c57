"""Signing against its floor, in one run: the site and bench/floor.py (a bare Flask app inserting the
row), each served by gunicorn with the same workers, loaded in turn by wrk with the browser's flow
(GET /sign, then POST it with a new address). Prints JSON; `make bench` shows it as rows.

    python bench/floor_compare.py sqlite|postgresql [SECONDS] [ROUNDS]
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run

SECONDS = int(os.environ.get("BENCH_FLOOR_SECONDS", "15"))
ROUNDS = int(os.environ.get("BENCH_FLOOR_ROUNDS", "2"))
WARM_SECONDS = 3


def databases(kind, directory):
    """A migrated, empty database for the site and one for the floor, of the same kind."""
    if kind == "sqlite":
        site, floor = f"sqlite:///{directory / 'site.sqlite3'}", f"sqlite:///{directory / 'floor.sqlite3'}"
        run.flask(run.site_env(site), "db", "upgrade")
        sqlite3.connect(directory / "floor.sqlite3").execute("PRAGMA journal_mode = WAL").close()
    else:
        import psycopg

        with psycopg.connect(f"{run.PG_SERVER}/postgres", autocommit=True) as connection:
            for name in ("petition_bench_site", "petition_bench_floor"):
                connection.execute(f"DROP DATABASE IF EXISTS {name}")
                connection.execute(f"CREATE DATABASE {name}")
        site, floor = f"{run.PG_SERVER}/petition_bench_site", f"{run.PG_SERVER}/petition_bench_floor"
        run.flask(run.site_env(site), "db", "upgrade")
    env = {**os.environ, "FLOOR_DATABASE_URL": floor}
    subprocess.run([sys.executable, str(run.BENCH / "floor.py")], env=env, check=True, cwd=run.ROOT)
    return site, floor


def signing_run(base):
    result = run.wrk(base, SECONDS, run.SIGN_CONNECTIONS, script="sign.lua")
    result["per_second"] = result["done"] / result["seconds"]
    return result


def compare(kind, seconds=None, rounds=None):
    global SECONDS
    SECONDS = seconds or SECONDS
    directory = Path(tempfile.mkdtemp(prefix="petition-floor-"))
    site_url, floor_url = databases(kind, directory)
    site_runs, floor_runs = [], []
    floor_env = run.site_env(site_url, FLOOR_DATABASE_URL=floor_url)
    with run.Server("bench.floor:app", floor_env) as floor, run.Server("wsgi:app", run.site_env(site_url)) as site:
        # Warm both first (not counted): every worker imports lazily, compiles its templates and
        # loads its catalogues on its first requests, which is not what signing costs.
        for server in (site, floor):
            run.wrk(server.base, WARM_SECONDS, run.SIGN_CONNECTIONS, script="sign.lua")
        # Alternating rounds, so a slow moment of this shared machine does not favour one side.
        for _ in range(rounds or ROUNDS):
            site_runs.append(signing_run(site.base))
            floor_runs.append(signing_run(floor.base))
    return {"kind": kind, "site": site_runs, "floor": floor_runs}


def summary(result):
    """Means over the rounds: signatures a second and p99 of each side, and the ratios."""

    def mean(runs, key):
        return sum(r[key] for r in runs) / len(runs)

    site, floor = result["site"], result["floor"]
    out = {
        "site_per_second": mean(site, "per_second"),
        "floor_per_second": mean(floor, "per_second"),
        "site_p99_ms": mean(site, "p99_ms"),
        "floor_p99_ms": mean(floor, "p99_ms"),
        "errors": sum(r["errors"] + r["failed"] for r in site + floor),
    }
    out["ratio"] = out["site_per_second"] / out["floor_per_second"]
    out["p99_ratio"] = out["site_p99_ms"] / out["floor_p99_ms"]
    return out


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    result = compare(
        kind, int(sys.argv[2]) if len(sys.argv) > 2 else None, int(sys.argv[3]) if len(sys.argv) > 3 else None
    )
    print(json.dumps({**result, "summary": summary(result)}))
