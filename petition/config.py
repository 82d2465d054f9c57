"""Configuration read from environment variables, with safe development defaults."""
import os
from pathlib import Path

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def database_url(raw):
    """Accept the common spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def engine_options(url):
    if url.startswith("sqlite"):
        # A second process (the dev server and a CLI command) waits for the lock instead of failing.
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True}


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'petition.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    # Content files (the letter and the article) live outside the code so organisers can edit them.
    CONTENT_DIR = os.environ.get("CONTENT_DIR", str(Path(__file__).resolve().parent / "content"))
    SIGNATORIES_PER_PAGE = 100
    # How often an open page refreshes its counts from /api/counts.
    COUNTS_REFRESH_SECONDS = int(os.environ.get("COUNTS_REFRESH_SECONDS", "15"))
    DASHBOARD_LATEST = 50
    WTF_CSRF_TIME_LIMIT = None  # a scholar may take a long time over the form; the token lasts the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 64 * 1024  # the largest form is a few kilobytes
    BABEL_DEFAULT_LOCALE = "en"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    SECRET_KEY = "test-secret-key"


def config_for_environment():
    """PETITION_ENV=production selects the production settings; anything else is development."""
    return ProductionConfig if os.environ.get("PETITION_ENV") == "production" else Config


def check_production_secret(config):
    if config.get("ENV_NAME") == "production" and config.get("SECRET_KEY") in (None, "", DEVELOPMENT_SECRET_KEY):
        raise RuntimeError(
            "SECRET_KEY must be set to a long random value in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
