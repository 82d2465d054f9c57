"""What crawlers, link previews and browsers ask a site for: /robots.txt, /sitemap.xml (every public page
in both languages), /favicon.ico and the web manifest for "add to home screen"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify, render_template, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from petition.web.links import site_link
from petition.web.locales import HTML_LANG, SUPPORTED

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

bp = Blueprint("discovery", __name__)

# The pages a search engine may list, each at its address per language. Private pages (a signer's
# links, the organisers') are never listed and say so themselves (X-Robots-Tag: noindex).
SITEMAP_PAGES = (
    "public.index",
    "public.background",
    "public.signatories",
    "public.letter_versions",
    "public.sign",
    "public.privacy",
)
DAY = 24 * 3600


def _cached(response: Response, seconds: int = DAY) -> Response:
    response.cache_control.public, response.cache_control.max_age = True, seconds
    return response


@bp.get("/robots.txt")
def robots() -> ResponseReturnValue:
    lines = [
        "User-agent: *",
        "Disallow: /organisers/",
        "Disallow: /confirm/",
        "Disallow: /signature/",
        *(f"Disallow: /{language}/signature/" for language in SUPPORTED),
        *_unindexed_list(),
        f"Sitemap: {site_link('discovery.sitemap')}",
    ]
    return _cached(Response("\n".join(lines) + "\n", mimetype="text/plain"))


def _unindexed_list() -> list[str]:
    """Every address that serves the list of names (the page without a language, as the menu links
    it, and in each language; its API), unless the organisers let search engines index it."""
    if current_app.config["LIST_INDEXABLE"]:
        return []
    paths = [
        url_for("public.signatories"),
        *(url_for("public.signatories", lang=language) for language in SUPPORTED),
        url_for("api.signatories"),
    ]
    return [f"Disallow: {path}" for path in paths]


@bp.get("/sitemap.xml")
def sitemap() -> ResponseReturnValue:
    endpoints = [
        endpoint
        for endpoint in SITEMAP_PAGES
        if endpoint != "public.signatories" or current_app.config["LIST_INDEXABLE"]
    ]
    pages = [{language: site_link(endpoint, lang=language) for language in SUPPORTED} for endpoint in endpoints]
    xml = render_template("sitemap.xml", pages=pages, html_lang=HTML_LANG)
    return _cached(Response(xml, mimetype="application/xml"))


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    return send_from_directory(current_app.static_folder or "static", "share/favicon.ico", max_age=7 * DAY)


@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    language = str(get_locale())
    response = jsonify(
        name=_("Open letter on labour NGOs in Guangdong"),
        short_name=_("Open letter"),
        lang=HTML_LANG.get(language, "en"),
        start_url=url_for("public.index", lang=language),
        display="browser",
        background_color="#fdfcf9",
        theme_color="#8a1c1c",
        icons=[
            {
                "src": url_for("static", filename=f"share/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
            }
            for size in (192, 512)
        ],
    )
    response.mimetype = "application/manifest+json"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return _cached(response)
