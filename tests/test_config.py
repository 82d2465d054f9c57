"""Settings from the environment: production refuses what would be unsafe, and says which variable."""

import os
import subprocess
import sys

import pytest

from petition import create_app
from petition.config import (
    DEVELOPMENT_SECRET_KEY,
    Config,
    ConfigurationError,
    ProductionConfig,
    config_for_environment,
    database_url,
)
from petition.privacy.sealing import make_key
from tests.support import PROJECT_ROOT, free_port, wait_for

A_REAL_SECRET = "a-long-random-value-from-the-environment"
AN_ADDRESS_KEY = make_key()
SHARED_LIMITS = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}


class NoSecret(ProductionConfig):
    SECRET_KEY = DEVELOPMENT_SECRET_KEY


def test_production_refuses_to_start_with_the_development_secret():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(NoSecret, SHARED_LIMITS)


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigurationError, match=r"SECRET_KEY.*at least 32"):
        create_app(ProductionConfig, {"SECRET_KEY": "x" * 31, **SHARED_LIMITS})


def test_production_starts_with_a_real_secret_and_secure_cookies():
    app = create_app(ProductionConfig, {"SECRET_KEY": A_REAL_SECRET, "ADDRESS_KEY": AN_ADDRESS_KEY, **SHARED_LIMITS})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    "value, chosen",
    [
        ("production", ProductionConfig),
        ("Production", ProductionConfig),
        (" PRODUCTION ", ProductionConfig),
        ("development", Config),
        ("", Config),
    ],
)
def test_the_environment_is_read_whatever_its_case(monkeypatch, value, chosen):
    monkeypatch.setenv("PETITION_ENV", value)
    assert config_for_environment() is chosen


@pytest.mark.parametrize("value", ["prod", "producton", "staging", "live"])
def test_an_unknown_environment_is_refused_rather_than_run_as_development(monkeypatch, value):
    monkeypatch.setenv("PETITION_ENV", value)
    with pytest.raises(ConfigurationError, match="PETITION_ENV"):
        config_for_environment()


def test_the_site_does_not_start_with_an_unknown_environment():
    env = {**os.environ, "PETITION_ENV": "Prod", "SECRET_KEY": A_REAL_SECRET, "ADDRESS_KEY": AN_ADDRESS_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "PETITION_ENV='Prod' is not known" in result.stderr


def test_production_refuses_per_process_limits_when_it_cannot_tell_one_process_serves(monkeypatch):
    monkeypatch.delenv("PETITION_PROCESSES", raising=False)
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI"):
        create_app(
            ProductionConfig,
            {"SECRET_KEY": A_REAL_SECRET, "ADDRESS_KEY": AN_ADDRESS_KEY, "RATELIMIT_STORAGE_URI": "memory://"},
        )
    monkeypatch.setenv("PETITION_PROCESSES", "1")
    assert create_app(
        ProductionConfig,
        {"SECRET_KEY": A_REAL_SECRET, "ADDRESS_KEY": AN_ADDRESS_KEY, "RATELIMIT_STORAGE_URI": "memory://"},
    )


def test_a_flask_command_in_production_is_one_process_and_may_keep_memory_limits(tmp_path):
    env = {
        **os.environ,
        "PETITION_ENV": "production",
        "SECRET_KEY": A_REAL_SECRET,
        "ADDRESS_KEY": AN_ADDRESS_KEY,
        "RATELIMIT_STORAGE_URI": "memory://",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
    }
    env.pop("PETITION_PROCESSES", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("workers, starts", [(3, False), (1, True)])
def test_gunicorn_with_several_workers_and_memory_limits_refuses_to_serve(tmp_path, workers, starts):
    port = free_port()
    env = {
        **os.environ,
        "PETITION_ENV": "production",
        "SECRET_KEY": A_REAL_SECRET,
        "ADDRESS_KEY": AN_ADDRESS_KEY,
        "RATELIMIT_STORAGE_URI": "memory://",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "GUNICORN_ACCESSLOG": "",
    }
    env.pop("PETITION_PROCESSES", None)
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "wsgi:app"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            if starts:
                wait_for(f"http://127.0.0.1:{port}/privacy", process)
            else:
                assert process.wait(timeout=60) != 0
        finally:
            process.terminate()
            process.wait(timeout=15)
    if not starts:
        assert "RATELIMIT_STORAGE_URI must name shared storage" in log.read_text()


def test_a_setting_that_is_not_a_number_is_named():
    env = {**os.environ, "MAIL_PORT": "twenty-five"}
    result = subprocess.run(
        [sys.executable, "-c", "import petition.config"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "MAIL_PORT='twenty-five' is not a whole number" in result.stderr


@pytest.mark.parametrize(
    "raw, url",
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_uses_psycopg_3(raw, url):
    assert database_url(raw) == url
