"""The two commands from the README, as a newcomer runs them."""

import os
import re
import signal
import subprocess
import time

import pytest

from tests.support import PROJECT_ROOT, HttpVisitor, free_port, wait_for


@pytest.fixture
def make_run(tmp_path):
    """`make run PORT=...` on a fresh database, stopped afterwards with everything it started."""
    port = free_port()
    log = tmp_path / "run.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}", "PETITION_ENV": "development"}
    env.pop("SITE_URL", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/counts", process, seconds=60)
        yield port, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_make_run_on_another_port_prints_emails_whose_links_use_that_port(make_run):
    port, log = make_run
    visitor = HttpVisitor(f"http://127.0.0.1:{port}")
    fields = {"name": "Ada", "affiliation": "U", "email": "ada@example.org", "group": "chinese", "listed": "y"}
    status, _, _ = visitor.post_form("/en/sign", fields)
    assert status == 302
    deadline = time.monotonic() + 30
    while f"http://127.0.0.1:{port}/en/confirm/" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    printed = log.read_text()
    assert f"http://127.0.0.1:{port}/en/confirm/" in printed, printed[-2000:]
    # Every address printed names the chosen port; none falls back to the default 5000
    # (compared as whole port numbers: port 50005 begins with "5000").
    assert set(re.findall(r"127\.0\.0\.1:(\d+)", printed)) == {str(port)}
