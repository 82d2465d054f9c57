"""Which language a page is in, and the URLs of each page in each language.

Every public page answers at an unprefixed address (/sign), in the language the visitor chose
with the switcher (a cookie) or else the one their browser asks for, and at a shareable address
per language (/en/sign, /zh/sign) that always shows that language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from babel.dates import format_date
from flask import g, has_request_context, request, url_for
from flask_babel import get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

View = TypeVar("View", bound=Callable[..., Any])

if TYPE_CHECKING:
    from flask import Blueprint

SUPPORTED = ("en", "zh")
DEFAULT = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# What <html lang> and hreflang say: Chinese here is always Simplified Chinese.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
OG_LOCALES = {"en": "en_GB", "zh": "zh_CN"}  # OpenGraph's language_TERRITORY form
NAMES = {"en": "English", "zh": "中文"}  # short: it shares a phone-width line with the menu
# How dates are written: the site's English is British (6 December 2026), its Chinese mainland (2026年12月6日).
DATE_LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}


def language_in_url(name: str) -> str:
    """A URL part that matches one of the languages, passed to the view as `name`."""
    return f"<any({','.join(SUPPORTED)}):{name}>"


URL_PREFIX = "/" + language_in_url("lang")
LOCALIZED_ENDPOINTS: set[str | None] = set()  # the pages with an address per language (localized_route)
# The query arguments each of those pages reads (?group= on the list ...): the only ones its links to
# itself carry over (see page_in).
QUERY_ARGUMENTS: dict[str | None, tuple[str, ...]] = {}


def current_language() -> str:
    """The language this request is in (Flask-Babel's choice, see select_locale), as "en" or "zh"."""
    return str(get_locale() or DEFAULT)


def local_date(value: date | datetime, format: str = "medium") -> str:
    """A date (or a moment, taken in UTC, the site's time) as the page's language writes it."""
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo else value).date()
    return _formatted_date(value, format, DATE_LOCALES.get(current_language(), DATE_LOCALES[DEFAULT]))


@functools.lru_cache(maxsize=4096)
def _formatted_date(value: date, format: str, locale: str) -> str:
    """Worked out once per day, format and language: a list page writes a hundred dates, mostly the
    same few, and Babel takes longer over each than the rest of the row (a static copy writes 2,000
    such pages)."""
    return format_date(value, format, locale=locale)


def select_locale() -> str:
    """The URL's language, else the switcher's remembered choice, else the browser's, else English."""
    if not has_request_context():
        return DEFAULT
    if getattr(g, "url_lang", None):
        return g.url_lang
    if request.url_rule is None:  # no page here (a 404): a /zh/ address is still read in Chinese
        first = request.path.split("/", 2)[1]
        if first in SUPPORTED:
            return first
    g.language_negotiated = True  # headers.py tells caches the page varies by reader
    chosen = request.cookies.get(COOKIE)
    if chosen in SUPPORTED:
        return chosen
    return browser_language(request.headers.get("Accept-Language", ""))


@functools.lru_cache(maxsize=256)
def browser_language(accept_language: str) -> str:
    """The supported language a browser's Accept-Language header prefers, else English. Worked out
    once per header: browsers send few different ones, and parsing one costs more than the rest of
    choosing a page's language. Bounded, so a sender of endless different headers holds no memory."""
    return parse_accept_header(accept_language, LanguageAccept).best_match(SUPPORTED) or DEFAULT


def localized_route(
    blueprint: Blueprint, rule: str, query: tuple[str, ...] = (), **options: Any
) -> Callable[[View], View]:
    """Register a view at `rule` and at each language's `/<lang>rule`; `query` names the query
    arguments the view reads."""

    def decorate(view: View) -> View:
        endpoint = f"{blueprint.name}.{options.get('endpoint', view.__name__)}"
        LOCALIZED_ENDPOINTS.add(endpoint)
        QUERY_ARGUMENTS[endpoint] = query
        blueprint.route(rule, **options)(view)
        blueprint.route(URL_PREFIX + rule, **options)(view)
        return view

    return decorate


def take_url_language(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The language in the URL decides the page's language; the view never sees it."""
    if values and "lang" in values:
        g.url_lang = values.pop("lang")


def keep_url_language(endpoint: str, values: dict[str, Any]) -> None:
    """Links from a /zh/ page stay on /zh/ pages."""
    if "lang" not in values and getattr(g, "url_lang", None) and is_localized(endpoint):
        values["lang"] = g.url_lang


def is_localized(endpoint: str | None) -> bool:
    return endpoint in LOCALIZED_ENDPOINTS


def page_in(language: str) -> str:
    """This page's address in `language`: its /<lang>/ URL where it has one, else this path.

    Only the query arguments the page reads are carried over. Anything else a visitor adds would
    reach url_for, which reads _external, _scheme, _anchor and _method itself: ?_external=1 made the
    page's links to itself absolute from the Host header (and the page cache kept them for the next
    readers), ?_method=DELETE made every localized page a 500."""
    if request.endpoint is not None and is_localized(request.endpoint) and request.url_rule is not None:
        known = QUERY_ARGUMENTS.get(request.endpoint, ())
        args = {name: request.args[name] for name in known if name in request.args}
        return url_for(request.endpoint, **{**args, **(request.view_args or {}), "lang": language})
    return request.full_path.rstrip("?")


def switch_link(language: str) -> str:
    return url_for("public.set_language", code=language, next=page_in(language))
