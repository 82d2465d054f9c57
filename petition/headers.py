"""Headers on every response: nothing loads from another origin, nothing leaks where readers came from."""

from flask import g, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


# The site uses no camera, microphone, location, payment or similar: no page, and nothing injected
# into one, may ask for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
        "browsing-topics",
    )
)
# Once a browser has seen the site over HTTPS it never tries plain HTTP again for two years.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

PRIVATE_PAGES = {"public.confirm", "public.manage", "public.withdraw"}


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Readers who follow a link out should not tell the other site they came from here.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.is_secure:  # HTTPS here, or as a trusted proxy says (TRUSTED_PROXIES, X-Forwarded-Proto)
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if request.blueprint == "public" and not getattr(g, "url_lang", None):
        # An address without /en/ or /zh/ answers in the reader's language: caches must keep them apart.
        response.vary.update(("Accept-Language", "Cookie"))
    if request.blueprint == "organisers" or request.endpoint in PRIVATE_PAGES:
        # Pages with email addresses or a signer's private link are never kept by a cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def register(app):
    app.after_request(add_security_headers)
