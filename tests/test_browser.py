"""Real headless Chromium against the site served by gunicorn: a scholar signs, confirms from the
email, and the count goes up."""

import re

import pytest

from tests.support import (
    MANAGE_LINK,
    create_organiser_account,
    emails_to,
    link_in_latest_email,
    settle_signings_now,
)

pytestmark = pytest.mark.browser


def count_on(page, key):
    return int(page.locator(f'.letter-aside [data-count="{key}"]').text_content().replace(",", ""))


NAMED = "Show my name and affiliation in the public list"


def fill_in(page, name, affiliation, email, group_label, named=True):
    """As a signer does; `named`: they tick the box to be named in public (it starts unticked)."""
    page.get_by_label("Full name", exact=True).fill(name)
    page.get_by_label("Affiliation", exact=True).fill(affiliation)
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label(group_label).check()
    if named:
        page.get_by_label(NAMED).check()


def test_a_scholar_on_a_phone_signs_confirms_and_sees_the_count_go_up(page_for, live_server, app):
    page = page_for(width=390)
    page.goto(live_server + "/")
    before_total, before_chinese = count_on(page, "total"), count_on(page, "chinese")

    page.get_by_role("link", name="Sign this letter").first.click()
    page.wait_for_url("**/sign")
    assert not page.get_by_label(NAMED).is_checked(), "nobody is named in public unless they ask to be"
    fill_in(page, "王小明", "中山大学社会学与人类学学院", "wang.browser@example.edu.cn", "Chinese scholar")
    page.get_by_role("button", name="Sign").click()
    page.wait_for_url("**/sign/check-your-email")
    page.goto(live_server + "/")
    assert count_on(page, "total") == before_total, "a pending signature does not count"

    confirm_url = live_server + link_in_latest_email(app, "wang.browser@example.edu.cn")
    page.goto(confirm_url)  # opening the link, as an institution's link scanner does, confirms nothing
    page.goto(live_server + "/")
    assert count_on(page, "total") == before_total
    page.goto(confirm_url)
    page.get_by_role("button", name="Confirm my signature").click()
    assert "Your signature is confirmed" in page.content()

    page.goto(live_server + "/")
    assert count_on(page, "total") == before_total + 1
    assert count_on(page, "chinese") == before_chinese + 1
    page.goto(live_server + "/signatories?group=chinese")
    assert page.get_by_text("王小明").is_visible()
    assert page.elsewhere == [] and page.console_errors == []


def test_a_mistake_is_explained_beside_the_field_and_nothing_typed_is_lost(page_for, live_server):
    page = page_for(width=1280)
    page.goto(live_server + "/sign")
    page.get_by_label("Full name", exact=True).fill("Ada Lovelace")
    page.get_by_label("Affiliation", exact=True).fill("University of London")
    page.get_by_label("Email address", exact=True).fill("not an address")
    page.get_by_role("button", name="Sign").click()
    assert "Enter a valid email address" in page.locator("#email-errors").inner_text()
    assert "Choose the group you sign as." in page.locator("#group-errors").inner_text()
    assert page.get_by_label("Full name", exact=True).input_value() == "Ada Lovelace"
    assert page.get_by_label("Email address", exact=True).get_attribute("aria-invalid") == "true"
    assert not page.locator(".hp").is_visible() or page.locator(".hp").bounding_box()["x"] < 0
    assert page.elsewhere == [] and page.console_errors == []


def test_an_open_page_updates_its_counts_without_a_reload(page_for, live_server, app):
    watcher = page_for()
    watcher.goto(live_server + "/")
    before = count_on(watcher, "total")
    signer = page_for(width=390)
    signer.goto(live_server + "/sign")
    fill_in(signer, "Grace Hopper", "Yale University", "grace.browser@example.edu", "International scholar")
    signer.get_by_role("button", name="Sign").click()
    signer.wait_for_url("**/sign/check-your-email")
    signer.goto(live_server + link_in_latest_email(app, "grace.browser@example.edu"))
    signer.get_by_role("button", name="Confirm my signature").click()
    watcher.wait_for_function(
        "n => Number(document.querySelector('.letter-aside [data-count=\"total\"]').textContent.replace(/,/g, '')) > n",
        arg=before,
        timeout=15000,
    )
    # The bar that splits the total between the groups follows the new figures too.
    total, international = count_on(watcher, "total"), count_on(watcher, "international")
    width = float(watcher.locator('.letter-aside rect[data-group="international"]').get_attribute("width"))
    assert abs(width - 100 * international / total) < 0.01
    assert watcher.elsewhere == [] and watcher.console_errors == []


def test_a_chinese_reader_gets_chinese_and_the_switcher_keeps_the_page(page_for, live_server):
    page = page_for(width=390, language="zh-CN")
    page.goto(live_server + "/signatories")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", name="联署名单").is_visible()
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/signatories")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(live_server + "/sign")  # the choice is remembered over the browser's Chinese
    assert page.get_by_role("heading", name="Sign the open letter").is_visible()
    assert page.elsewhere == [] and page.console_errors == []


def sign_in_browser(app, page, live_server, name, email, group_label="International scholar"):
    """Sign on the form, and let the mail worker take the signing, as it does within seconds."""
    page.goto(live_server + "/en/sign")
    fill_in(page, name, "Test University", email, group_label)
    page.get_by_role("button", name="Sign").click()
    page.wait_for_url("**/sign/check-your-email")
    settle_signings_now(app)


def no_sideways_scrolling(page):
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")


def test_a_signer_corrects_then_withdraws_with_the_private_link(page_for, live_server, app):
    page = page_for(width=390)
    sign_in_browser(app, page, live_server, "Ada Mistyped", "ada.fix@example.edu")
    page.goto(live_server + link_in_latest_email(app, "ada.fix@example.edu"))
    page.get_by_role("button", name="Confirm my signature").click()
    page.wait_for_url("**/thanks")
    page.goto(live_server + link_in_latest_email(app, "ada.fix@example.edu", MANAGE_LINK))
    page.get_by_label("Full name", exact=True).fill("Ada Lovelace-Fixed")
    page.get_by_role("button", name="Save changes").click()
    assert "Your changes are saved." in page.content()
    page.goto(live_server + "/signatories?q=Lovelace-Fixed")
    assert page.get_by_text("Ada Lovelace-Fixed").is_visible()

    page.goto(live_server + link_in_latest_email(app, "ada.fix@example.edu", MANAGE_LINK))
    page.get_by_role("link", name="Withdraw my signature").click()
    page.get_by_role("button", name="Yes, withdraw and delete my signature").click()
    page.wait_for_url("**/signature/withdrawn")
    page.goto(live_server + "/signatories?q=Lovelace-Fixed")
    assert page.get_by_text("Ada Lovelace-Fixed").count() == 0
    assert page.elsewhere == [] and page.console_errors == []


def test_asking_for_the_email_again_sends_a_fresh_link(page_for, live_server, app):
    page = page_for(width=390)
    sign_in_browser(app, page, live_server, "Resend Person", "resend.me@example.edu")
    page.goto(live_server + "/en/resend")
    page.get_by_label("Email address", exact=True).fill("resend.me@example.edu")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/sign/check-your-email")
    assert len(emails_to(app, "resend.me@example.edu")) == 2
    page.goto(live_server + link_in_latest_email(app, "resend.me@example.edu"))
    page.get_by_role("button", name="Confirm my signature").click()
    assert "Your signature is confirmed" in page.content()
    assert page.elsewhere == [] and page.console_errors == []


def test_a_signer_whose_link_will_not_open_types_the_code_on_a_phone(page_for, live_server, app):
    """From "check your email" to the code page, the code read from the email typed as a Chinese
    input method types it (full-width digits), and the signature is confirmed."""
    page = page_for(width=390)
    sign_in_browser(app, page, live_server, "Code Typer", "code.typer@example.edu")
    page.get_by_role("link", name="Confirm with a code").click()
    page.wait_for_url("**/confirm")
    [email] = emails_to(app, "code.typer@example.edu")
    code = re.search(r"Your code: (\d{4} \d{4})", email.body).group(1)
    page.get_by_label("Email address", exact=True).fill("code.typer@example.edu")
    page.get_by_label("Code from the email", exact=True).fill(code.translate(FULL_WIDTH))
    assert no_sideways_scrolling(page)
    page.get_by_role("button", name="Confirm my signature").click()
    page.wait_for_url("**/thanks")
    assert "Your signature is confirmed" in page.content()
    assert page.elsewhere == [] and page.console_errors == []


FULL_WIDTH = str.maketrans("0123456789 ", "０１２３４５６７８９\u3000")


def test_signing_and_confirming_work_with_javascript_off(page_for, live_server, app):
    page = page_for(width=390, javascript=False)
    page.goto(live_server + "/")
    before = count_on(page, "total")
    sign_in_browser(app, page, live_server, "No Script Scholar", "noscript@example.edu", "Chinese scholar")
    page.goto(live_server + link_in_latest_email(app, "noscript@example.edu"))
    page.get_by_role("button", name="Confirm my signature").click()
    page.goto(live_server + "/")
    assert count_on(page, "total") == before + 1
    page.goto(live_server + "/signatories?group=chinese")
    assert page.get_by_text("No Script Scholar").is_visible()
    assert page.elsewhere == []


def in_organiser_header(page, role, name):
    """A link or button of the organisers' header; on a phone its menu is opened first."""
    if page.locator(".nav-menu summary").is_visible():
        page.locator(".nav-menu summary").click()
    return page.locator("header").get_by_role(role, name=name, exact=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_an_organiser_logs_in_reviews_hides_with_a_reason_and_logs_out(page_for, live_server, app, width):
    email = f"organiser.browser.{width}@example.org"
    with app.app_context():
        create_organiser_account(email, "correct horse battery")
    signer = page_for(width=390)
    sign_in_browser(app, signer, live_server, f"Suspicious Name {width}", f"suspicious.{width}@example.edu")

    page = page_for(width=width)
    page.goto(live_server + "/organisers/")
    page.wait_for_url("**/organisers/login**")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/organisers/")
    assert page.get_by_text(f"suspicious.{width}@example.edu").is_visible()
    assert no_sideways_scrolling(page), "the dashboard fits the screen; only its tables scroll"
    page.get_by_role("row", name=f"Suspicious Name {width}").get_by_role("link", name="Review").click()
    page.locator("#reason-hide").fill("checking with the university")
    page.get_by_role("button", name="Hide").click()
    assert "Hidden from the list and the counts." in page.content()
    page.goto(live_server + "/organisers/?review=hidden")
    assert page.get_by_text(f"Suspicious Name {width}").is_visible()
    assert page.get_by_text("checking with the university").is_visible(), "the audit log has the reason"
    in_organiser_header(page, "button", "Log out").click()
    page.goto(live_server + "/organisers/")
    page.wait_for_url("**/organisers/login**")
    assert page.elsewhere == [] and page.console_errors == []


def decode_qr(png_bytes, tmp_path):
    """What a phone's camera reads from the code on the screen (zbar, a real QR decoder)."""
    import shutil
    import subprocess

    if not shutil.which("zbarimg"):
        pytest.skip("zbarimg is not installed (apt-get install zbar-tools); .ci/run installs it")
    shot = tmp_path / "qr.png"
    shot.write_bytes(png_bytes)
    return subprocess.run(
        ["zbarimg", "--raw", "-q", str(shot)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_signer_lands_on_a_thank_you_page_copies_the_link_and_the_qr_code_opens_the_letter(
    page_for, live_server, app, tmp_path
):
    page = page_for(width=390, language="zh-CN")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto(live_server + "/zh/sign")
    page.get_by_label("姓名", exact=True).fill("李华")
    page.get_by_label("所属机构", exact=True).fill("复旦大学")
    page.get_by_label("电子邮箱", exact=True).fill("li.share@example.edu.cn")
    page.get_by_label("中国学者").check()
    page.get_by_role("button", name="联署").click()
    page.wait_for_url("**/sign/check-your-email")
    page.goto(live_server + link_in_latest_email(app, "li.share@example.edu.cn"))
    page.get_by_role("button", name="确认我的签名").click()

    page.wait_for_url("**/zh/thanks")
    assert "/signature/" not in page.url and "/confirm/" not in page.url, "no secret in the address bar"
    assert page.get_by_role("heading", name="感谢您的联署").is_visible()
    page.get_by_role("button", name="复制链接").click()
    page.get_by_text("链接已复制").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == live_server + "/zh/"

    code = page.locator(".share-qr img")
    code.scroll_into_view_if_needed()
    assert decode_qr(code.screenshot(), tmp_path) == live_server + "/zh/"
    assert page.elsewhere == [] and page.console_errors == []


def test_without_javascript_the_letters_address_is_there_to_copy_by_hand(page_for, live_server):
    page = page_for(width=390, javascript=False)
    page.goto(live_server + "/en/")
    field = page.get_by_label("Link to the letter")
    assert field.input_value() == live_server + "/en/"
    assert not page.get_by_role("button", name="Copy link").is_visible(), "no button that would do nothing"


def box(page, selector):
    return page.locator(selector).first.bounding_box()


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_on_a_phone_the_first_screen_shows_a_one_row_header_the_title_and_the_sign_button(
    page_for, live_server, language
):
    page = page_for(width=360, language=language)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server + "/")
    header, title, sign = box(page, ".site-header"), box(page, "h1"), box(page, ".letter-aside .button")
    row = [box(page, selector) for selector in (".site-title", ".nav-menu summary", ".nav-sign")]
    assert max(b["y"] + b["height"] for b in row) - min(b["y"] for b in row) < 48, "title, menu and Sign on one row"
    assert header["height"] < 64
    assert title["y"] < sign["y"] and sign["y"] + sign["height"] <= 740, "the letter's title, then Sign this letter"
    assert no_sideways_scrolling(page)


def test_the_phone_menu_opens_without_javascript_and_leads_to_each_page(page_for, live_server):
    page = page_for(width=360, javascript=False)
    page.goto(live_server + "/en/")
    page.get_by_text("Menu").click()
    page.get_by_role("link", name="Signatories").click()
    page.wait_for_url("**/en/signatories")


@pytest.mark.parametrize("path", ["/en/", "/en/signatories", "/en/sign", "/en/thanks", "/en/signatories/growth"])
def test_text_at_twice_its_size_on_a_phone_still_fits_the_screen(page_for, live_server, path):
    page = page_for(width=360)
    page.goto(live_server + path)
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert no_sideways_scrolling(page), page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
        ".slice(0, 5).map(e => e.className || e.tagName)"
    )


def test_the_counts_line_up_whatever_their_labels_length(page_for, live_server, app):
    from tests.support import confirmed_signature

    with app.app_context():
        confirmed_signature(email="line.up@example.org", group="chinese")
    uneven = 0
    for width in (360, 414, 480, 600, 960, 1280):
        page = page_for(width=width)
        page.goto(live_server + "/en/")
        labels = page.locator(".letter-aside .count:not(.count-total) dt").all()
        figures = page.locator(".letter-aside .count:not(.count-total) dd").all()
        uneven += len({round(label.bounding_box()["height"]) for label in labels}) > 1
        assert len({round(figure.bounding_box()["y"]) for figure in figures}) == 1, width
    assert uneven, "at some width one label wraps and the other does not"


def test_an_organiser_closes_the_letter_and_every_page_says_so(page_for, live_server, app, runner):
    with app.app_context():
        email, _ = create_organiser_account("closer@example.org", "correct horse battery")
    result = runner.invoke(args=["letter", "close", "--by", email, "--reason", "delivered"])
    assert result.exit_code == 0, result.output
    page = page_for(width=390)
    for path in ("/en/", "/en/signatories", "/en/background"):
        page.goto(live_server + path)
        assert (
            page.locator(".closed-banner").is_visible()
            and "Signing closed on" in page.locator(".closed-banner").inner_text()
        )
        assert page.locator(".nav-sign").count() == 0
    page.goto(live_server + "/en/sign")
    assert page.get_by_role("heading", name="Signing has closed").is_visible()
    assert page.locator("form input[name=email]").count() == 0
    assert no_sideways_scrolling(page) and page.elsewhere == [] and page.console_errors == []


def log_in_in_browser(page, live_server, email, password="correct horse battery"):
    page.goto(live_server + "/organisers/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("width", [390, 1280])
def test_an_organiser_enrols_an_authenticator_by_its_qr_code_and_then_logs_in_with_a_code(
    page_for, live_server, app, tmp_path, width
):
    import time
    from urllib.parse import parse_qs, urlsplit

    import pyotp

    email = f"enrol.{width}@example.org"
    with app.app_context():
        create_organiser_account(email, "correct horse battery")
    page = page_for(width=width)
    log_in_in_browser(page, live_server, email)
    page.wait_for_url("**/organisers/")
    in_organiser_header(page, "link", "Account").click()
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    page.wait_for_url("**/organisers/enrol")
    assert no_sideways_scrolling(page)
    # What the phone's camera reads is the secret the page also shows as text.
    uri = decode_qr(page.locator(".enrol-qr svg").screenshot(), tmp_path)
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    assert uri.startswith("otpauth://totp/") and secret == page.locator("#totp-secret").inner_text()
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    assert "on since" in page.content()

    in_organiser_header(page, "link", "Dashboard").click()
    in_organiser_header(page, "button", "Log out").click()
    log_in_in_browser(page, live_server, email)
    page.wait_for_url("**/organisers/login/code")
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(time.time() + 30))  # the next window: not a replay
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/organisers/")
    assert page.elsewhere == [] and page.console_errors == []


@pytest.mark.parametrize("width", [390, 1280])
def test_a_moderator_approves_a_name_waiting_for_review_and_it_joins_the_list(page_for, live_server, app, width):
    from sqlalchemy import update

    from petition.extensions import db
    from petition.organisers.models import Organiser
    from petition.signatures.models import Signature
    from tests.support import confirmed_signature

    email, name = f"moderator.{width}@example.org", f"Held Scholar {width}"
    with app.app_context():
        create_organiser_account(email, "correct horse battery")
        db.session.execute(update(Organiser).where(Organiser.email == email).values(role="moderator"))
        held = confirmed_signature(name=name, email=f"held.{width}@example.org")
        # As LIST_REVIEW=all would have left it on confirming (test_listing checks the policy itself).
        db.session.execute(update(Signature).where(Signature.id == held.id).values(listing_review="pending"))
        db.session.commit()
    reader = page_for(width=390)
    reader.goto(live_server + "/signatories")
    assert name not in reader.content()

    page = page_for(width=width)
    log_in_in_browser(page, live_server, email)
    page.wait_for_url("**/organisers/")
    assert page.get_by_role("link", name="Download confirmed signatures (CSV)").count() == 0, (
        "a moderator does not export"
    )
    in_organiser_header(page, "link", "Names to review").click()
    page.get_by_role("row", name=name).get_by_role("button", name="Approve listing").click()
    page.wait_for_url("**/organisers/?review=listing")
    assert "Approved: the name is on the public list." in page.content()
    reader.goto(live_server + "/signatories")
    assert reader.get_by_text(name).is_visible()
    assert page.elsewhere == [] and page.console_errors == []
