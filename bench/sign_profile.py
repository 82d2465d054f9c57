"""Where a signature's time goes, in-process: GET /sign then POST it with a new address, N times,
against a migrated SQLite file (or, with PROFILE_PG_SERVER=postgresql://user@host:port, a new
PostgreSQL database there), under cProfile. Prints the mean milliseconds per GET and per POST
and the functions that take the most time (cumulative), then the same without the profiler, and
what a trivial view costs through the site's stack (its extensions and hooks) and through bare
Flask (the floor app): the part of every request that no page's own work can remove.

    python bench/sign_profile.py [N] [sort: cumulative|tottime]
"""

import cProfile
import io
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
SORT = sys.argv[2] if len(sys.argv) > 2 else "cumulative"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STARTED = re.compile(r'name="started" type="hidden" value="([^"]*)"')


def main():
    directory = Path(tempfile.mkdtemp(prefix="sign-profile-"))
    os.environ.update(
        {
            "DATABASE_URL": fresh_database(directory),
            "PETITION_ENV": "production",
            "SECRET_KEY": "profile-secret-not-for-production-xxxxxxxx",
            "RATELIMIT_ENABLED": "false",
            "SIGN_MIN_SECONDS": "0",
            "PETITION_PROCESSES": "1",
        }
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from flask_migrate import upgrade

    from petition import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    # As wrk's script and a first-time visitor: the GET carries no cookie, the POST the one it set.
    client = app.test_client(use_cookies=False)

    def one(i, timings):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get("/sign")
        page = response.get_data(as_text=True)
        cookie = "; ".join(c.split(";", 1)[0] for c in response.headers.getlist("Set-Cookie"))
        middle, cpu_middle = time.perf_counter(), time.process_time()
        data = {
            "csrf_token": TOKEN.search(page).group(1),
            "started": STARTED.search(page).group(1),
            "name": f"Profile Signer {i}",
            "affiliation": "Profile University",
            "email": f"profile-{i}@example.org",
            "group": "chinese",
            "listed": "y",
        }
        response = client.post("/sign", data=data, headers={"Cookie": cookie})
        assert response.status_code == 302, response.status_code
        timings.append(
            (middle - started, time.perf_counter() - middle, cpu_middle - cpu_started, time.process_time() - cpu_middle)
        )

    for i in range(200):  # warm up: templates compiled, catalogues loaded
        one(-i - 1, [])
    timings = []
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(N):
        one(i, timings)
    profiler.disable()
    get_ms = sum(t[0] for t in timings) / N * 1000
    post_ms = sum(t[1] for t in timings) / N * 1000
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(SORT).print_stats(int(os.environ.get("PROFILE_LINES", "45")))
    print(out.getvalue())
    print(f"Under the profiler: GET /sign {get_ms:.2f} ms, POST /sign {post_ms:.2f} ms (mean of {N})")
    timings = []
    for i in range(N, 2 * N):
        one(i, timings)
    get_ms, post_ms, get_cpu_ms, post_cpu_ms = (sum(t[i] for t in timings) / N * 1000 for i in range(4))
    print(
        f"Without it: GET /sign {get_ms:.2f} ms ({get_cpu_ms:.2f} ms CPU), "
        f"POST /sign {post_ms:.2f} ms ({post_cpu_ms:.2f} ms CPU) (mean of {N})"
    )
    print(
        f"A trivial view's CPU per request: through the site's stack {stack_ms(create_app()):.3f} ms, "
        f"through bare Flask (bench/floor.py) {stack_ms(floor_app(directory)):.3f} ms"
    )


def fresh_database(directory):
    """A new SQLite file, or with PROFILE_PG_SERVER (postgresql://user@host:port) a new PostgreSQL
    database there."""
    server = os.environ.get("PROFILE_PG_SERVER")
    if not server:
        return f"sqlite:///{directory / 'profile.sqlite3'}"
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS petition_profile")
        connection.execute("CREATE DATABASE petition_profile")
    return f"{server}/petition_profile"


def stack_ms(app, n=3000):
    """CPU per request of a view that only sets a session value and answers: what the framework and
    the app's extensions and hooks cost before any page does anything."""
    from flask import session

    @app.get("/bench-trivial")
    def trivial():
        session["seen"] = "yes"
        return "ok"

    client = app.test_client(use_cookies=False)
    for _ in range(300):
        client.get("/bench-trivial")
    started = time.process_time()
    for _ in range(n):
        client.get("/bench-trivial")
    return (time.process_time() - started) / n * 1000


def floor_app(directory):
    os.environ["FLOOR_DATABASE_URL"] = f"sqlite:///{directory / 'floor.sqlite3'}"
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import floor

    return floor.app


if __name__ == "__main__":
    main()
