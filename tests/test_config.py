import pytest

from petition import create_app
from petition.config import DEVELOPMENT_SECRET_KEY, ProductionConfig, database_url


class NoSecret(ProductionConfig):
    SECRET_KEY = DEVELOPMENT_SECRET_KEY


def test_production_refuses_to_start_with_the_development_secret():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(NoSecret)


def test_production_starts_with_a_real_secret_and_secure_cookies():
    app = create_app(ProductionConfig, {"SECRET_KEY": "a-long-random-value-from-the-environment"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("raw, url", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_url_uses_psycopg_3(raw, url):
    assert database_url(raw) == url
