"""The open-letter site: create_app() builds the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask

from petition.config import (
    check_addresses,
    check_initiators,
    check_list_review,
    check_production_secret,
    check_shared_limits,
    config_for_environment,
)
from petition.privacy.sealing import check_address_key
from petition.web.catalogues import ensure_compiled

# Each feature's tables (imported before the database is bound, so migrations and create_all see
# them all) and the modules whose pages register on the public and organisers' blueprints.
TABLES = tuple(
    f"petition.{feature}.models"
    for feature in ("signatures", "letter", "news", "mail", "organisers", "delivery", "inbound")
)
PAGES = (
    "petition.signatures.views",
    "petition.signatures.confirm_views",
    "petition.letter.views",
    "petition.news.views",
    "petition.signatories.views",
    "petition.organisers.login_views",
    "petition.news.organiser_views",
    "petition.delivery.views",
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config_object: object | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_object(config_object or config_for_environment())
    app.config.update(overrides or {})
    check_production_secret(app.config)
    check_address_key(app.config)
    check_shared_limits(app.config)
    check_list_review(app.config)
    check_addresses(app.config)
    if warning := check_initiators(app.config):
        app.logger.warning(warning)
    ensure_compiled(app)
    Path(app.instance_path).mkdir(exist_ok=True)

    register_hosts(app)
    register_sessions(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_mail_writers(app)
    register_response_headers(app)
    register_reach(app)
    register_template_context(app)
    register_static_files(app)
    return app


def register_hosts(app: Flask) -> None:
    from petition.web import converters, hosts

    hosts.register(app)
    converters.register(app)


def register_sessions(app: Flask) -> None:
    from petition.web.session_cookies import SignedCookieSessions

    app.session_interface = SignedCookieSessions()


def register_extensions(app: Flask) -> None:
    from petition.db import transactions
    from petition.extensions import babel, csrf, db, limiter, login_manager, migrate
    from petition.organisers.accounts import organiser_by_id
    from petition.web.locales import select_locale
    from petition.web.proxies import FromTrustedProxies, networks

    for module in TABLES:
        import_module(module)
    db.init_app(app)
    transactions.configure(app)
    # Batch mode lets later migrations alter tables on SQLite too.
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "organisers.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(organiser_by_id)
    limiter.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        # Believe X-Forwarded-For only from our own proxies' addresses, and only as far as they wrote it.
        hops = app.config["TRUSTED_PROXIES"]
        proxies = networks(app.config["TRUSTED_PROXY_ADDRESSES"])
        # Flask's documented way to wrap the WSGI app; mypy sees a method being replaced.
        app.wsgi_app = FromTrustedProxies(app.wsgi_app, hops, proxies)  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    for module in PAGES:
        import_module(module)
    from petition.api.views import bp as api
    from petition.organisers.views import bp as organisers
    from petition.web.discovery import bp as discovery
    from petition.web.health import bp as health
    from petition.web.public import bp as public

    app.register_blueprint(public)
    app.register_blueprint(organisers, url_prefix="/organisers")
    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(health)
    app.register_blueprint(discovery)


def register_errorhandlers(app: Flask) -> None:
    from petition.web.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from petition.cli import register

    register(app)


def register_mail_writers(app: Flask) -> None:
    """Who writes each email the mail worker sends, by template: the signer's own emails, and the
    mailings (news, notices that the letter changed) with whom they go to. The mail package imports
    neither feature; they are registered with it here."""
    from petition.letter.versions import CHANGE_NOTICES
    from petition.mail import mailings, signer_emails
    from petition.news.publishing import NEWS_MAILING

    mailings.register_writer(signer_emails.SIGNER_EMAILS, signer_emails.write_waiting)
    mailings.register(NEWS_MAILING)
    mailings.register(CHANGE_NOTICES)


def register_response_headers(app: Flask) -> None:
    from petition.web.headers import register

    register(app)


def register_reach(app: Flask) -> None:
    from petition.reach.locations import register

    register(app)


def register_static_files(app: Flask) -> None:
    from petition.web.static_files import register

    register(app)


def register_template_context(app: Flask) -> None:
    from flask_babel import format_decimal

    from petition import inbound
    from petition.letter.content import hint, markdown, news_markdown
    from petition.letter.initiators import contact_email
    from petition.letter.initiators import named as initiators_named
    from petition.reach.sharing import letter_url, share_links
    from petition.signatories.groups import all_groups, label_of
    from petition.web.links import site_link
    from petition.web.locales import local_date

    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.globals["site_link"] = site_link
    app.jinja_env.globals["signatory_groups"] = all_groups
    app.jinja_env.globals["group_label"] = label_of
    app.jinja_env.globals["letter_url"] = letter_url
    app.jinja_env.globals["markdown"] = markdown
    app.jinja_env.globals["news_markdown"] = news_markdown
    app.jinja_env.globals["content_hint"] = hint
    app.jinja_env.globals["share_links"] = share_links
    # Who is behind the letter: the letter page, the privacy page and every email's footer.
    app.jinja_env.globals["initiators_named"] = initiators_named
    app.jinja_env.globals["contact_email"] = contact_email

    inbound.register(app)
    app.context_processor(language_context)
    app.context_processor(closing_context)


def closing_context() -> dict[str, object]:
    """Every page says when signing closed, with the counts (nothing while the letter is open)."""
    from flask import has_request_context
    from sqlalchemy.exc import SQLAlchemyError

    from petition.letter.closing import closed_at
    from petition.signatories.counts import current_counts

    if not has_request_context():  # an email being written: no banner, and no query per email
        return {}
    try:
        closed = closed_at()
        return {"signing_closed_at": closed, "closing_counts": current_counts() if closed else None}
    except SQLAlchemyError:  # an error page while the database is away still renders
        return {"signing_closed_at": None, "closing_counts": None}


def language_context() -> dict[str, object]:
    """<html lang>, the switcher, and the hreflang alternates of the page being shown."""
    from flask import has_request_context, request, url_for
    from flask_babel import get_locale

    from petition.reach.locations import building_mirror
    from petition.web.links import here_origin, site_origin
    from petition.web.locales import HTML_LANG, NAMES, OG_LOCALES, SUPPORTED, is_localized, page_in, switch_link

    current = str(get_locale())
    if not has_request_context():  # an email being written
        return {"html_lang": HTML_LANG.get(current, "en"), "current_language": current}
    localized = is_localized(request.endpoint)
    return {
        # Link previews: a page with an address per language names that address as its canonical one.
        "canonical_url": site_origin() + page_in(current) if localized else None,
        "og_locale": OG_LOCALES[current],
        "og_locale_alternates": [OG_LOCALES[code] for code in SUPPORTED if code != current],
        "share_image_url": here_origin() + url_for("static", filename=f"share/card-{current}.png"),
        "html_lang": HTML_LANG.get(current, "en"),
        "current_language": current,
        "language_switch": [
            # A static copy has no switcher to remember the choice: its link is the other page itself.
            (code, NAMES[code], HTML_LANG[code], page_in(code) if building_mirror() else switch_link(code))
            for code in SUPPORTED
            if code != current
        ],
        "alternates": [(HTML_LANG[code], site_origin() + page_in(code)) for code in SUPPORTED] if localized else [],
    }
