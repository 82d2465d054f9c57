"""Two app instances (gunicorn on two ports) sharing one PostgreSQL and one Redis behave as one site:
counts, rate limits, organiser sessions and lockouts, and the mail worker.

Runs against PostgreSQL and Redis on this machine whatever database the rest of the suite uses."""

import os
import re
import subprocess
import sys
import uuid

import pytest

from tests.support import PROJECT_ROOT, HttpVisitor, SmtpServer, free_port, wait_for

SERVER = os.environ.get("INSTANCES_POSTGRESQL_SERVER", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("INSTANCES_REDIS_URL", "redis://127.0.0.1:6379/0")
# This run's own database and rate-limit keys: two runs on one machine never touch each other's.
RUN = f"test_instances_{os.getpid()}_{uuid.uuid4().hex[:8]}"
DATABASE = f"{SERVER}/{RUN}"


def services_or_skip():
    try:
        import psycopg
        import redis

        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{RUN}"')
        redis.Redis.from_url(REDIS).ping()
    except Exception as error:  # no PostgreSQL or Redis here: say so
        pytest.skip(f"needs PostgreSQL and Redis on this machine ({error}); .ci/run starts them")


def remove_run_data():
    import psycopg
    import redis

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{RUN}" WITH (FORCE)')
    store = redis.Redis.from_url(REDIS)
    for key in store.scan_iter(f"*{RUN}*"):
        store.delete(key)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two instances, one database, one Redis, one SMTP server; the instances' environment for commands."""
    services_or_skip()
    smtp = SmtpServer()
    smtp.start()
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE,
        "RATELIMIT_STORAGE_URI": REDIS,
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_KEY_PREFIX": RUN,
        "SECRET_KEY": "one-secret-for-every-instance",
        "PETITION_ENV": "development",
        "SIGN_MIN_SECONDS": "0",
        "SIGN_LIMIT_PER_EMAIL": "2 per hour",
        "CODE_LIMIT_PER_EMAIL": "2 per hour",
        "SITE_URL": f"http://127.0.0.1:{ports[0]}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
    }
    env.pop("TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*flask, "organisers", "create", "organiser@example.org"],
        input="a long passphrase\na long passphrase\n",
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    logs = tmp_path_factory.mktemp("instances")
    processes, log_files = [], []
    try:
        for i, port in enumerate(ports):
            log = open(logs / f"instance-{i}.log", "w")  # noqa: SIM115 (open while the instance runs)
            log_files.append(log)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(bases, processes, strict=True):
            wait_for(base + "/healthz", process)
        yield {"bases": bases, "env": env, "flask": flask, "smtp": smtp}
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
        for log in log_files:
            log.close()
        smtp.stop()
        remove_run_data()


def latest_link(site, kind, address):
    """The link in the latest email to `address`, as the mail server received it from the worker."""
    subprocess.run(site["flask"] + ["mail", "deliver"], cwd=PROJECT_ROOT, env=site["env"], check=True)
    body = [message for message in site["smtp"].messages if message["To"] == address][-1].text()
    return re.search(rf"https?://[^/\s]+((?:/en|/zh)?/{kind}/\S+)", body).group(1)


def counts_on(base):
    import json
    import urllib.request

    with urllib.request.urlopen(base + "/api/counts", timeout=10) as response:
        return json.loads(response.read())


def sign(visitor, email, base):
    fields = {"name": "Scholar", "affiliation": "Uni", "email": email, "group": "chinese", "listed": "y"}
    return visitor.post_form("/sign", fields, base=base)[0]


def test_a_signature_made_on_one_instance_and_confirmed_on_the_other_counts_on_both(site):
    a, b = site["bases"]
    visitor = HttpVisitor(a)
    assert sign(visitor, "shared@example.org", a) == 302
    link = latest_link(site, "confirm", "shared@example.org")
    assert visitor.post_form(link, {}, base=b)[0] == 302
    assert counts_on(a)["chinese"] == counts_on(b)["chinese"] == 1


def test_rate_limits_are_shared_between_instances(site):
    a, b = site["bases"]
    visitor = HttpVisitor(a)
    assert [sign(visitor, "limited@example.org", base) for base in (a, b, a)] == [302, 302, 429]


def test_a_codes_tries_are_counted_once_for_every_instance(site):
    """Two wrong codes, one on each instance, use up the address's tries: the right code is then
    refused on either (the count lives in Redis), and the link in the email still confirms."""
    a, b = site["bases"]
    visitor = HttpVisitor(a)
    assert sign(visitor, "coded@example.org", a) == 302
    link = latest_link(site, "confirm", "coded@example.org")
    body = [message for message in site["smtp"].messages if message["To"] == "coded@example.org"][-1].text()
    code = re.search(r"Your code: (\d{4} \d{4})", body).group(1)
    typed = {"email": "coded@example.org"}
    assert [visitor.post_form("/en/confirm", {**typed, "code": "0000 0000"}, base=base)[0] for base in (a, b)] == [
        422,
        422,
    ]
    assert visitor.post_form("/en/confirm", {**typed, "code": code}, base=a)[0] == 429
    assert visitor.post_form(link, {}, base=b)[0] == 302


def test_an_organiser_session_from_one_instance_works_on_the_other(site):
    a, b = site["bases"]
    organiser = HttpVisitor(a)
    status, _, _ = organiser.post_form(
        "/organisers/login", {"email": "organiser@example.org", "password": "a long passphrase"}, base=a
    )
    assert status == 302
    status, _, html = organiser.request("/organisers/", base=b)
    assert status == 200 and "organiser@example.org" in html


def test_a_lockout_on_one_instance_holds_on_the_other(site):
    a, b = site["bases"]
    attacker = HttpVisitor(a)
    for _ in range(5):
        attacker.post_form(
            "/organisers/login", {"email": "organiser@example.org", "password": "wrong password"}, base=a
        )
    status, _, _ = HttpVisitor(b).post_form(
        "/organisers/login", {"email": "organiser@example.org", "password": "a long passphrase"}, base=b
    )
    assert status == 422


def test_two_mail_workers_send_every_email_exactly_once(site):
    a, b = site["bases"]
    visitor = HttpVisitor(a)
    addresses = [f"worker{i}@example.org" for i in range(30)]
    for i, address in enumerate(addresses):
        assert sign(visitor, address, (a, b)[i % 2]) == 302
    workers = [
        subprocess.Popen(
            site["flask"] + ["mail", "deliver"],
            cwd=PROJECT_ROOT,
            env=site["env"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    received = [message["To"] for message in site["smtp"].messages if message["To"] in addresses]
    assert sorted(received) == sorted(addresses), outputs
