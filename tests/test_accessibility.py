"""axe-core in real Chromium on every page, public and organiser, in both languages, at phone and
desktop width, and with forms showing their errors: zero violations of WCAG 2.2 A and AA (and axe's
best practices). Then what axe cannot see: focus after a failed submit, the focus ring's contrast."""

import json
import re

import pytest

from petition.privacy.addresses import email_hash
from tests.support import MANAGE_LINK, PROJECT_ROOT, create_organiser_account, link_in_latest_email, sign_as

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
LANGUAGES = ["en", "zh-CN"]
WIDTHS = [360, 1280]


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make test runs npm ci in tests/axe); .ci/run needs it")
    return AXE.read_text(encoding="utf-8")


def violations(page, axe_source):
    # Run through the DevTools protocol, which the page's Content-Security-Policy does not apply to.
    page.evaluate(axe_source)
    result = page.evaluate("rules => axe.run(document, {runOnly: rules})", RULES)
    return [f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:3]}" for v in result["violations"]]


@pytest.fixture(scope="module")
def signer_links(app, live_server):
    """A confirmation link and a private link, as the emails carry them."""
    import urllib.request

    client = app.test_client()
    sign_as(client, email="axe.signer@example.org")
    confirm = link_in_latest_email(app, "axe.signer@example.org")
    manage = link_in_latest_email(app, "axe.signer@example.org", MANAGE_LINK)
    urllib.request.urlopen(live_server + "/api/counts").read()  # the server is up
    from urllib.parse import urlsplit

    from sqlalchemy import select

    from petition.extensions import db
    from petition.news.publishing import unsubscribe_url
    from petition.signatures.models import Signature

    with app.app_context(), app.test_request_context():
        signature = db.session.execute(
            select(Signature).where(Signature.email_hash == email_hash("axe.signer@example.org"))
        ).scalar_one()
        unsubscribe = urlsplit(unsubscribe_url(signature)).path
    return {"confirm": confirm, "manage": manage, "withdraw": manage + "/withdraw", "unsubscribe": unsubscribe}


PUBLIC = [
    "/",
    "/background",
    "/signatories",
    "/signatories/growth",
    "/letter/versions",
    "/sign",
    "/sign/check-your-email",
    "/thanks",
    "/privacy",
    "/resend",
    "/confirm",
    "/signature/withdrawn",
    "/confirm/not-a-real-token",
    "/no-such-page",
]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_has_no_accessibility_violations(
    page_for, live_server, axe_source, signer_links, language, width
):
    page = page_for(width=width, language=language)
    found = {}
    for path in [*PUBLIC, *signer_links.values()]:
        page.goto(live_server + path)
        found[path] = violations(page, axe_source)
    assert {path: v for path, v in found.items() if v} == {}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_forms_showing_their_errors_have_no_accessibility_violations(
    page_for, live_server, axe_source, language, width
):
    page = page_for(width=width, language=language)
    found = {}
    for path in ("/sign", "/resend", "/confirm", "/organisers/login"):
        page.goto(live_server + path)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_load_state()
        found[path] = violations(page, axe_source)
    assert {path: v for path, v in found.items() if v} == {}


@pytest.fixture
def organiser_page(page_for, live_server, app):
    def open_page(width, language):
        with app.app_context():
            try:
                email, password = create_organiser_account(email=f"axe-{language}-{width}@example.org")
            except ValueError:
                email, password = f"axe-{language}-{width}@example.org", "correct horse battery"
        page = page_for(width=width, language=language)
        page.goto(live_server + "/organisers/login")
        page.locator("input[type=email]").fill(email)
        page.locator("input[type=password]").fill(password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/organisers/")
        return page

    return open_page


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_organiser_page_has_no_accessibility_violations(
    organiser_page, live_server, app, axe_source, language, width
):
    from tests.support import confirmed_signature

    with app.app_context():
        signature = confirmed_signature(email=f"axe.review.{language}.{width}@example.edu", group="chinese")
        detail = f"/organisers/signatures/{signature.id}"
        # One name waiting for review, so the review tab shows its approve button.
        held = confirmed_signature(email=f"axe.held.{language}.{width}@example.org", name="Held Name")
        held.listing_review = "pending"
        from petition.extensions import db

        db.session.commit()
    page = organiser_page(width, language)
    found = {}
    for path in ("/organisers/", "/organisers/?review=hidden", detail, "/organisers/bulk-hide", "/organisers/updates"):
        page.goto(live_server + path)
        found[path] = violations(page, axe_source)
    page.goto(live_server + detail)
    page.locator("main form button[type=submit]").first.click()  # hide without a reason: errors shown
    page.wait_for_load_state()
    found[detail + " (errors)"] = violations(page, axe_source)
    page.goto(live_server + "/organisers/bulk-hide")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    found["/organisers/bulk-hide (errors)"] = violations(page, axe_source)
    page.goto(live_server + "/organisers/updates")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    found["/organisers/updates (errors)"] = violations(page, axe_source)
    found.update(account_pages(page, live_server, axe_source, language, width))
    assert {path: v for path, v in found.items() if v} == {}


def account_pages(page, live_server, axe_source, language, width):
    """The account page, enrolling a second factor (with a wrong code first), the recovery codes,
    and the login's code step."""
    import pyotp

    found = {}
    for path in ("/organisers/?review=listing", "/organisers/account", "/organisers/enrol"):
        page.goto(live_server + path)
        found[path] = violations(page, axe_source)
    page.goto(live_server + "/organisers/account")
    page.locator("form.sign-form button[type=submit]").click()  # no passwords typed
    page.wait_for_load_state()
    found["/organisers/account (errors)"] = violations(page, axe_source)
    page.goto(live_server + "/organisers/enrol")
    secret = page.locator("#totp-secret").inner_text()
    page.locator("input[name=code]").fill("000000")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    found["/organisers/enrol (errors)"] = violations(page, axe_source)
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".recovery-codes")
    found["recovery codes"] = violations(page, axe_source)
    page.goto(live_server + "/organisers/")
    if page.locator(".nav-menu summary").is_visible():  # a phone: Log out is in the header's menu
        page.locator(".nav-menu summary").click()
    page.locator("header form[action$='/logout'] button").locator("visible=true").click()
    page.goto(live_server + "/organisers/login")
    page.locator("input[type=email]").fill(f"axe-{language}-{width}@example.org")
    page.locator("input[type=password]").fill("correct horse battery")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/organisers/login/code")
    found["/organisers/login/code"] = violations(page, axe_source)
    page.locator("input[name=code]").fill("000000")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    found["/organisers/login/code (errors)"] = violations(page, axe_source)
    return found


def test_after_a_failed_submit_focus_is_on_a_summary_that_links_to_each_field(page_for, live_server):
    page = page_for(width=390)
    page.goto(live_server + "/en/sign")
    name = page.get_by_label("Full name", exact=True)
    name.evaluate("field => field.removeAttribute('maxlength')")  # as an old browser or a pasted post would send it
    name.fill("x" * 250)
    page.get_by_role("button", name="Sign").click()
    assert page.title().startswith("Error:")
    summary = page.locator(".error-summary")
    page.wait_for_function("document.activeElement.classList.contains('error-summary')", timeout=5000)
    links = summary.get_by_role("link").all()
    assert len(links) >= 3, "name too long, affiliation, email and group are all missing"
    assert "250" in summary.inner_text(), "too long says how many characters were typed"
    links[0].click()
    assert page.evaluate("document.activeElement.id") == "name"


def test_without_javascript_focus_still_goes_to_the_error_summary(page_for, live_server):
    page = page_for(width=390, javascript=False)
    page.goto(live_server + "/en/sign")
    page.get_by_role("button", name="Sign").click()
    page.wait_for_function("document.activeElement.classList.contains('error-summary')", timeout=5000)


def luminance(rgb):
    channels = []
    for value in rgb:
        c = value / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(a, b):
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rgb(css):
    return tuple(int(n) for n in re.findall(r"\d+", css)[:3])


@pytest.mark.parametrize("selector", ["a.nav-sign", ".letter-aside a.button", "#share-url", ".share-links a"])
def test_every_focus_indicator_stands_out_three_to_one(page_for, live_server, selector):
    page = page_for(width=1280)
    page.goto(live_server + "/en/")
    element = page.locator(selector).first
    element.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus from the keyboard, so :focus-visible applies
    style = json.loads(
        element.evaluate(
            "e => JSON.stringify({outline: getComputedStyle(e).outlineColor, width: getComputedStyle(e).outlineWidth,"
            " page: getComputedStyle(document.body).backgroundColor})"
        )
    )
    assert float(style["width"].removesuffix("px")) >= 2
    assert contrast(rgb(style["outline"]), rgb(style["page"])) >= 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_dark_mode_keeps_every_contrast(page_for, live_server, axe_source, language):
    page = page_for(width=390, language=language)
    page.emulate_media(color_scheme="dark")
    found = {}
    for path in ["/", "/signatories", "/signatories/growth", "/thanks", "/background"]:
        page.goto(live_server + path)
        found[path] = violations(page, axe_source)
    page.goto(live_server + "/sign")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    found["/sign (errors)"] = violations(page, axe_source)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(253, 252, 249)", "dark paper"
    assert {path: v for path, v in found.items() if v} == {}


def test_the_letter_prints_as_a_document_with_its_source(page_for, live_server):
    page = page_for(width=1280)
    page.goto(live_server + "/en/")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".letter-aside", ".share", ".letter-sign"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.locator("h1").is_visible() and page.locator(".letter").is_visible()
    assert "China Policy Institute" in page.locator(".site-footer").inner_text()
