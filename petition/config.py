"""Configuration read from environment variables, with safe development defaults."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import click

Number = TypeVar("Number", int, float)

if TYPE_CHECKING:
    from collections.abc import Mapping

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
# base64 of "development-only-address-key-32!": public, so production refuses it.
DEVELOPMENT_ADDRESS_KEY = "ZGV2ZWxvcG1lbnQtb25seS1hZGRyZXNzLWtleS0zMiE"
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def database_url(raw: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: the message names the variable and says what to do."""


def env_flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def _env_parsed(name: str, default: str, parse: Callable[[str], Number], what: str) -> Number:
    raw = os.environ.get(name, default)
    try:
        return parse(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not {what}.") from None


def env_number(name: str, default: str) -> int:
    """A whole number from the environment."""
    return _env_parsed(name, default, int, "a whole number")


def env_seconds(name: str, default: str) -> float:
    """A number of seconds, fractions allowed."""
    return _env_parsed(name, default, float, "a number")


def env_list(name: str) -> list[str]:
    """A list of values separated by commas or white space (SECRET_KEY_FALLBACKS)."""
    return [item for item in os.environ.get(name, "").replace(",", " ").split() if item]


def env_entries(name: str) -> list[str]:
    """Entries separated by semicolons (a name with its affiliation holds a comma)."""
    return [entry.strip() for entry in os.environ.get(name, "").split(";") if entry.strip()]


def env_date(name: str) -> date | None:
    """A day from the environment, as 2026-12-10, or None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a date such as 2026-12-10.") from None


def env_moment(name: str) -> datetime | None:
    """A moment from the environment, ISO 8601 with its zone (2026-12-31T23:59:00+08:00), or None when
    unset. A time without a zone is refused: "midnight" means different moments in London and Beijing."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a date and time such as 2026-12-31T23:59:00+08:00.") from None
    if moment.tzinfo is None:
        raise ConfigurationError(f"{name}={raw!r} has no time zone: add one, such as +08:00 or Z.")
    return moment


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # A second process (the dev server and a CLI command) waits for the lock instead of failing.
        return {"connect_args": {"timeout": 15}}
    return {}  # a PostgreSQL connection idle for a while is pinged before use: database.ping_when_idle


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    # Old keys, still accepted (never used to sign) while a new SECRET_KEY is rolled out: sessions,
    # form tokens and every signer's private link keep working. Drop them once nobody needs them.
    SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
    # Keys the HMAC of visitors' IP addresses. Apart from SECRET_KEY, so rotating that key does not
    # change the hashes organisers compare; empty means SECRET_KEY is used.
    IP_HASH_KEY = os.environ.get("IP_HASH_KEY", "")
    # Seals signers' addresses and the emails written to them in the database (petition/privacy/sealing.py):
    # its own key, so neither a copied database nor a leaked SECRET_KEY gives an address.
    ADDRESS_KEY = os.environ.get("ADDRESS_KEY", DEVELOPMENT_ADDRESS_KEY)
    # Earlier address keys, still opening what they sealed until `flask privacy reseal` has run.
    ADDRESS_KEY_FALLBACKS = env_list("ADDRESS_KEY_FALLBACKS")
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'petition.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    # Content files (the letter and the article) live outside the code so organisers can edit them.
    CONTENT_DIR = os.environ.get("CONTENT_DIR", str(Path(__file__).resolve().parent / "content"))
    SIGNATORIES_PER_PAGE = 100
    # How long the home page (the letter and its counts) is reused before it is rendered again.
    PAGE_CACHE_SECONDS = env_seconds("PAGE_CACHE_SECONDS", "1")
    # How often an open page refreshes its counts from /api/counts.
    COUNTS_REFRESH_SECONDS = env_number("COUNTS_REFRESH_SECONDS", "15")
    # How long each process keeps whether signing has closed by hand (signing itself always reads it).
    CLOSING_CACHE_SECONDS = env_seconds("CLOSING_CACHE_SECONDS", "1")
    # How long each process keeps the groups of signatories before reading them again.
    GROUPS_CACHE_SECONDS = env_seconds("GROUPS_CACHE_SECONDS", "5")
    # How long the chart of signatures over time is reused (it counts the whole table).
    GROWTH_CACHE_SECONDS = env_seconds("GROWTH_CACHE_SECONDS", "300")
    # A goal shown as progress beside the counts (0: no goal).
    SIGNATURE_GOAL = env_number("SIGNATURE_GOAL", "0")
    DASHBOARD_LATEST = 50
    # Every message a form shows is the site's own (translated by Flask-Babel); WTForms' catalogue
    # would only be loaded, at a cost on every form post, and never used.
    WTF_I18N_ENABLED = False
    # Flask-WTF would also refuse any HTTPS post without a same-origin Referer, but every page sends
    # Referrer-Policy: no-referrer (a signer's private links must not leak), so browsers send none and
    # no form could be posted over HTTPS. The token tied to the session (a Secure, SameSite=Lax cookie
    # on an HSTS site) is what stops a forged post; the Referer would add nothing to it.
    WTF_CSRF_SSL_STRICT = False
    WTF_CSRF_TIME_LIMIT = None  # a scholar may take a long time over the form; the token lasts the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 64 * 1024  # the largest form is a few kilobytes
    BABEL_DEFAULT_LOCALE = "en"

    # The public address of the site, for links in emails.
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000")
    # Other addresses of this same site (another domain, the server's IP address), and its onion
    # service: a page reached at one of them links within it. Copies made by `flask mirror build`
    # published elsewhere. Every page lists them all for readers whose network blocks one.
    ALTERNATE_URLS = env_list("ALTERNATE_URLS")
    ONION_URL = os.environ.get("ONION_URL", "").strip()
    MIRROR_URLS = env_list("MIRROR_URLS")
    # Outgoing mail. With no MAIL_SERVER, emails are written to the log instead (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = env_number("MAIL_PORT", "25")
    MAIL_USE_TLS = env_flag("MAIL_USE_TLS", "false")
    # Certificates to trust for STARTTLS besides the system's (a private mail relay's own CA).
    MAIL_TLS_CA_FILE = os.environ.get("MAIL_TLS_CA_FILE", "")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    # The From address. A bare address goes out under the letter's name, in the email's language; a
    # name given with it ("Name <address>") is used as it is.
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "letter@localhost")
    MAIL_TIMEOUT_SECONDS = 20
    # A worker holds an email this long while sending it; if it dies, another takes it after that.
    MAIL_LEASE_SECONDS = env_number("MAIL_LEASE_SECONDS", "300")
    # An email the server keeps deferring (4xx) or that keeps failing is marked failed after this many tries.
    MAIL_MAX_ATTEMPTS = env_number("MAIL_MAX_ATTEMPTS", "12")
    # Incoming mail (`flask mail fetch`): the mailbox signers write to, imaps://user:password@host/INBOX
    # (or imap:// with STARTTLS; never without TLS). Empty: nothing is fetched.
    IMAP_URL = os.environ.get("IMAP_URL", "")
    # Certificates to trust for IMAP besides the system's (a mail server with its own CA).
    IMAP_CA_FILE = os.environ.get("IMAP_CA_FILE", "")
    # Where a message that could not be handled, or was too large to read, is moved (created if missing).
    IMAP_FAILED_FOLDER = os.environ.get("IMAP_FAILED_FOLDER", "Failed")
    # Where a person's message the site did not act on (no form lines, no code; or signing by email
    # off) is moved for the organisers to read (created if missing).
    IMAP_UNHANDLED_FOLDER = os.environ.get("IMAP_UNHANDLED_FOLDER", "For organisers")
    # What `mail fetch` hands each message to; None: inbound/imap.sign_by_email. Not a setting: tests
    # give their own.
    INBOUND_HANDLER = None
    # The delivery copy is made by the mail worker (delivery/jobs.py): it holds a job this long between two
    # signs of progress; if it dies, another worker takes the job up after that, at most this many times.
    DELIVERY_LEASE_SECONDS = env_number("DELIVERY_LEASE_SECONDS", "120")
    DELIVERY_MAX_ATTEMPTS = env_number("DELIVERY_MAX_ATTEMPTS", "3")
    # Who is behind the letter. INITIATORS: who started it, "Name, Affiliation; Name, Affiliation" as
    # they are to be printed; CONTACT_EMAIL: where readers, signers (about their data) and the
    # recipients of the delivery copy write. Shown on the letter page, the privacy page, in every
    # email's footer and on the delivery copy's cover. Unset, none of them names anyone (the cover
    # says so); it never makes one up. Production warns at start (check_initiators).
    INITIATORS = env_entries("INITIATORS")
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "").strip()
    # The date of delivery on the cover (2026-12-10); unset, the day the copy is made, said as such.
    DELIVERY_DATE = env_date("DELIVERY_DATE")
    # Folders holding the fonts the PDF embeds, separated by semicolons: Noto Serif CJK SC for Chinese
    # (Debian's fonts-noto-cjk), and DejaVu for names in other scripts (Arabic, Hebrew, Georgian...).
    # Latin, Greek and Cyrillic are set in Libertinus Serif, built into typst. No other font is used.
    DELIVERY_FONT_DIRS = env_entries("DELIVERY_FONT_DIRS") or [
        "/usr/share/fonts/opentype/noto",
        "/usr/share/fonts/truetype/dejavu",
    ]
    # How long a confirmation link works.
    CONFIRM_MAX_AGE = env_number("CONFIRM_MAX_AGE", str(7 * 24 * 3600))
    # Signing by email (petition/inbound): the address whose mail is piped to `flask mail receive`.
    # Unset, signing by email is off and no page offers it.
    SIGN_BY_EMAIL_ADDRESS = os.environ.get("SIGN_BY_EMAIL_ADDRESS", "").strip()

    # Abuse protection. Limits per IP address are generous (a campus or VPN shares one address);
    # limits per email address are strict.
    RATELIMIT_ENABLED = env_flag("RATELIMIT_ENABLED", "true")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Keeps this site's counters apart from anything else in the same Redis.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "petition")
    SIGN_LIMIT_PER_IP = os.environ.get("SIGN_LIMIT_PER_IP", "120 per hour")
    SIGN_LIMIT_PER_EMAIL = os.environ.get("SIGN_LIMIT_PER_EMAIL", "5 per hour")
    RESEND_LIMIT_PER_IP = os.environ.get("RESEND_LIMIT_PER_IP", "60 per hour")
    RESEND_LIMIT_PER_EMAIL = os.environ.get("RESEND_LIMIT_PER_EMAIL", "3 per hour")
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "60 per hour")
    # Messages to SIGN_BY_EMAIL_ADDRESS from one mail domain (a mail's sender has no IP to limit by;
    # many real signers share qq.com or 163.com, so this is as generous as the limit per IP).
    SIGN_BY_EMAIL_LIMIT_PER_DOMAIN = os.environ.get("SIGN_BY_EMAIL_LIMIT_PER_DOMAIN", "120 per hour")
    # Confirming with the emailed code: tries per client, and per address typed (right or wrong; an
    # eight-digit code at five tries an hour would take centuries to guess).
    CODE_LIMIT_PER_IP = os.environ.get("CODE_LIMIT_PER_IP", "60 per hour")
    CODE_LIMIT_PER_EMAIL = os.environ.get("CODE_LIMIT_PER_EMAIL", "5 per hour")
    # The list of names and its API, per client: a reader turns a few pages a minute; a harvester
    # walking a long list 100 names at a time is slowed to days.
    LIST_LIMIT_PER_IP = os.environ.get("LIST_LIMIT_PER_IP", "30 per minute;300 per day")
    # Days after the letter closes before `privacy purge` erases the addresses of signers who did not
    # ask for news (a keyed hash is kept, so an address still cannot sign twice).
    ERASE_EMAILS_AFTER_DAYS = env_number("ERASE_EMAILS_AFTER_DAYS", "90")
    # Review before a name is listed: none, all, or unverified (addresses not at an academic domain).
    LIST_REVIEW = os.environ.get("LIST_REVIEW", "none").strip().lower()
    # Whether search engines may index the list of names (robots.txt, X-Robots-Tag, the sitemap).
    LIST_INDEXABLE = env_flag("LIST_INDEXABLE", "false")
    # Number of reverse proxies in front of the app whose X-Forwarded-For may be believed.
    TRUSTED_PROXIES = env_number("TRUSTED_PROXIES", "0")
    # The addresses those proxies connect from (addresses or networks): forwarded headers from any
    # other address are ignored. The default suits a proxy on the same machine.
    TRUSTED_PROXY_ADDRESSES = env_list("TRUSTED_PROXY_ADDRESSES") or ["127.0.0.1", "::1"]
    # A form sent back faster than this is probably not a person (0 turns the check off).
    SIGN_MIN_SECONDS = env_seconds("SIGN_MIN_SECONDS", "3")
    # How fast news emails go out (the mail server and the recipients' servers like a steady pace).
    NEWS_PER_MINUTE = env_number("NEWS_PER_MINUTE", "600")
    # When signing closes by itself (ISO 8601 with a zone); `flask letter close` closes it by hand.
    SIGNING_CLOSES_AT = env_moment("SIGNING_CLOSES_AT")
    # Organiser login lockout: this many failures within the window locks the account or address.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_IP = 20
    LOGIN_LOCKOUT_MINUTES = 15
    # Organiser sessions end after this long without a request, and this long in all.
    ORGANISER_IDLE_MINUTES = env_number("ORGANISER_IDLE_MINUTES", "30")
    ORGANISER_SESSION_HOURS = env_number("ORGANISER_SESSION_HOURS", "12")
    # Every organiser login asks for a code from an authenticator app; an account without one enrols
    # at its next login. On by default in production.
    REQUIRE_2FA = env_flag("REQUIRE_2FA", "false")
    # The tests' stand-in for the clock of organiser sessions and codes (None: the real time).
    ORGANISER_CLOCK = None


class ProductionConfig(Config):
    ENV_NAME = "production"
    REQUIRE_2FA = env_flag("REQUIRE_2FA", "true")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    SECRET_KEY = "test-secret-key"
    ADDRESS_KEY = "dGVzdC1vbmx5LWFkZHJlc3Mta2V5LW9mLTMyYnl0ZXM"  # base64 of "test-only-address-key-of-32bytes"
    SITE_URL = "https://letter.example.org"
    MAIL_SERVER = ""
    IMAP_URL = ""  # tests name their own mailbox (a Dovecot of their own)
    RATELIMIT_STORAGE_URI = "memory://"
    # Limits stay on (Flask-Limiter keeps one state for all apps in a process), but high enough
    # that only the tests about limits, which lower them, ever reach them.
    RATELIMIT_ENABLED = True
    SIGN_LIMIT_PER_IP = SIGN_LIMIT_PER_EMAIL = "100000 per hour"
    RESEND_LIMIT_PER_IP = RESEND_LIMIT_PER_EMAIL = LOGIN_LIMIT_PER_IP = LIST_LIMIT_PER_IP = "100000 per hour"
    CODE_LIMIT_PER_IP = CODE_LIMIT_PER_EMAIL = "100000 per hour"
    SIGN_MIN_SECONDS = 0
    PAGE_CACHE_SECONDS = 0  # tests look at counts the moment they change; test_page_cache turns it on
    GROUPS_CACHE_SECONDS = 0  # each test starts from the migrated groups; test_groups turns it on
    CLOSING_CACHE_SECONDS = 0  # tests close and reopen by hand and look at once; test_closing turns it on


ENVIRONMENTS = {"development": Config, "production": ProductionConfig}
SECRET_KEY_MIN = 32


def config_for_environment() -> type[Config]:
    """PETITION_ENV=production selects the production settings; unset or development, the development
    ones. Anything else is refused: a misspelt "production" must not quietly run with public secrets."""
    name = os.environ.get("PETITION_ENV", "development").strip().lower() or "development"
    if name not in ENVIRONMENTS:
        raise ConfigurationError(
            f"PETITION_ENV={os.environ['PETITION_ENV']!r} is not known: use production or development."
        )
    return ENVIRONMENTS[name]


def check_list_review(config: Mapping[str, Any]) -> None:
    if config.get("LIST_REVIEW") not in ("none", "all", "unverified"):
        raise ConfigurationError(
            f"LIST_REVIEW={config.get('LIST_REVIEW')!r} is not known: use none, all or unverified."
        )


def check_addresses(config: Mapping[str, Any]) -> None:
    """Every address a page offers readers is a plain http(s) address with a host; the onion one ends
    in .onion. A mistyped one would send readers nowhere, or somewhere else."""
    named = [(name, address) for name in ("ALTERNATE_URLS", "MIRROR_URLS") for address in config.get(name) or []]
    named += [("ONION_URL", config["ONION_URL"])] if config.get("ONION_URL") else []
    for name, address in named:
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigurationError(f"{name}: {address!r} is not an address such as https://letter.example.org.")
        if name == "ONION_URL" and not parts.hostname.endswith(".onion"):
            raise ConfigurationError(f"ONION_URL={address!r} is not an onion service's address (…….onion).")


def check_initiators(config: Mapping[str, Any]) -> str | None:
    """A warning for production when the site names nobody behind the letter (a reader cannot tell
    who speaks, a signer whom to ask about their data), or None. Not an error: the site works."""
    if config.get("ENV_NAME") != "production":
        return None
    what = {
        "INITIATORS": ("name nobody who started the letter", 'INITIATORS="Name, Affiliation; Name, Affiliation"'),
        "CONTACT_EMAIL": (
            "give no address to write to (where signers ask to see or erase their data)",
            "CONTACT_EMAIL to an address the initiators read",
        ),
    }
    missing = [name for name in what if not config.get(name)]
    if not missing:
        return None
    return (
        f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the letter page, the privacy "
        f"page and every email {' and '.join(what[name][0] for name in missing)}. "
        f"Set {' and '.join(what[name][1] for name in missing)}, in the settings file (docs/configuration.md)."
    )


def check_production_secret(config: Mapping[str, Any]) -> None:
    secret = config.get("SECRET_KEY") or ""
    if config.get("ENV_NAME") == "production" and (secret == DEVELOPMENT_SECRET_KEY or len(secret) < SECRET_KEY_MIN):
        raise ConfigurationError(
            f"SECRET_KEY must be set to a random value of at least {SECRET_KEY_MIN} characters in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )


def serving_processes() -> int:
    """How many processes serve this app, if known: 1 for a flask command (click is running it),
    else what gunicorn.conf.py or the deployment wrote in PETITION_PROCESSES; 0 when unknown."""
    if click.get_current_context(silent=True) is not None:
        return 1
    return env_number("PETITION_PROCESSES", "0")


def check_shared_limits(config: Mapping[str, Any]) -> None:
    """memory:// keeps one set of counters per process: with four workers, "3 per hour" lets twelve
    through. Production needs shared storage unless one process serves."""
    if (
        config.get("ENV_NAME") == "production"
        and config.get("RATELIMIT_ENABLED")
        and config.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://")
        and serving_processes() != 1
    ):
        raise ConfigurationError(
            "RATELIMIT_STORAGE_URI must name shared storage in production (for example redis://localhost:6379/0), "
            "so that a limit holds for the whole site and not for each worker process. With exactly one "
            "serving process, set PETITION_PROCESSES=1 to keep memory://."
        )
