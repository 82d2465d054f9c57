"""An organiser's week, in real Chromium on the site served by gunicorn, with 10,000 signatures:
log in, preview then publish news of two paragraphs in both languages and email it, find a signature
from the first day by searching and hide it with a reason, ask for the delivery copy from the
dashboard and download it. On a phone and on a desktop, in each language. Set SCREENSHOT_DIR to keep
a picture of the dashboard's search (dashboard-<width>-<language>.png) and of the delivery copy's
first two pages (delivery-<language>-1.png, -2.png)."""

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from petition.extensions import db
from petition.organisers.models import AuditEntry
from petition.privacy.sealing import seal
from petition.signatures.models import Signature
from tests.support import create_organiser_account

pytestmark = pytest.mark.browser

SEEDED = 10_000
FIRST_DAY = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

# The rows made by the database itself, as bench/seed.py makes them: a week of signing from
# 1 November 2026, one signature a minute, no Python per row.
SQLITE_SEED = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
INSERT INTO signatures (name, affiliation, email, signatory_group, listed, signed_at, status, confirmed_at,
                        hidden, suspected_bot, visible, secret, language)
SELECT 'Scholar ' || i, 'University ' || (i % 97), :sealed,
       CASE WHEN i % 2 THEN 'chinese' ELSE 'international' END, 1,
       datetime('2026-11-01 09:00:00', '+' || i || ' minutes'), 'confirmed',
       datetime('2026-11-01 09:00:00', '+' || i || ' minutes'), 0, 0, 1, lower(hex(randomblob(11))),
       CASE WHEN i % 2 THEN 'zh' ELSE 'en' END
FROM seq
"""
POSTGRESQL_SEED = """
INSERT INTO signatures (name, affiliation, email, signatory_group, listed, signed_at, status, confirmed_at,
                        hidden, suspected_bot, visible, secret, language)
SELECT 'Scholar ' || i, 'University ' || (i % 97), :sealed,
       CASE WHEN i % 2 = 1 THEN 'chinese' ELSE 'international' END, true,
       timestamptz '2026-11-01 09:00:00+00' + i * interval '1 minute', 'confirmed',
       timestamptz '2026-11-01 09:00:00+00' + i * interval '1 minute', false, false, true,
       substr(md5(i::text), 1, 22), CASE WHEN i % 2 = 1 THEN 'zh' ELSE 'en' END
FROM generate_series(1, :n) AS i
"""


def seed_a_week(app):
    """Ada Lovelace signed first, at 08:00 on the first day; 10,000 others after her."""
    with app.app_context():
        ada = Signature(
            name="Ada Lovelace",
            affiliation="University of London",
            email="ada.first.day@example.ac.uk",
            group="international",
            status="confirmed",
            visible=True,
            signed_at=FIRST_DAY,
            confirmed_at=FIRST_DAY,
            wants_updates=True,
            language="en",
        )
        db.session.add(ada)
        db.session.flush()
        sql = POSTGRESQL_SEED if db.engine.dialect.name == "postgresql" else SQLITE_SEED
        # Addresses are stored sealed (petition/privacy/sealing.py): every seeded row gets one sealed address.
        db.session.execute(text(sql), {"n": SEEDED, "sealed": seal("seeded@example.edu")})
        db.session.commit()
        return ada.id


def open_menu_if_folded(page):
    """On a phone the header's links are in its menu."""
    if page.locator(".nav-menu summary").is_visible():
        page.locator(".nav-menu summary").click()


def follow_header_link(page, href):
    open_menu_if_folded(page)
    page.locator(f'header nav a[href="{href}"]').locator("visible=true").click()


def run_the_mail_worker(app):
    """One pass of the mail worker (`flask mail deliver`), as its service runs beside the site."""
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output


def no_sideways_scrolling(page):
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize("width", [390, 1280])
def test_an_organisers_week_on_a_site_with_ten_thousand_signatures(
    page_for, live_server, app, smtp_server, width, language, tmp_path
):
    ada = seed_a_week(app)
    with app.app_context():
        email, password = create_organiser_account()
    page = page_for(width=width, language=language)
    page.goto(live_server + "/organisers/login")
    assert not page.locator(".nav-sign").count(), "no public Sign button for organisers"
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/organisers/")

    # Monday: news, in both languages, two paragraphs each typed with Enter; previewed first.
    follow_header_link(page, "/organisers/updates")
    page.wait_for_url("**/organisers/updates")
    page.locator("#title_en").fill("The letter was delivered")
    page.locator("#body_en").press_sequentially("We delivered the letter on Monday.")
    page.locator("#body_en").press("Enter")
    page.locator("#body_en").press_sequentially("Thank you for signing.")
    page.locator("#title_zh").fill("公开信已递交")
    page.locator("#body_zh").press_sequentially("我们已于周一递交公开信。")
    page.locator("#body_zh").press("Enter")
    page.locator("#body_zh").press_sequentially("感谢您的联署。")
    with page.expect_navigation():
        page.locator("button[name=preview]").click()
    previews = page.locator(".preview-page")
    assert previews.count() == 2
    english = ["We delivered the letter on Monday.", "Thank you for signing."]
    chinese = ["我们已于周一递交公开信。", "感谢您的联署。"]
    for i, paragraphs in enumerate((english, chinese)):
        assert previews.nth(i).locator(".timeline p:not(.news-date)").all_inner_texts() == paragraphs
        html_part = page.locator(".preview-email-html").nth(i).locator("p").all_inner_texts()
        assert paragraphs[0] in html_part and paragraphs[1] in html_part
    assert page.locator("#body_en").input_value() == "We delivered the letter on Monday.\nThank you for signing."
    assert no_sideways_scrolling(page)
    page.locator("#email").check()  # and email it to the signers who asked for news
    page.locator("main form button[type=submit]:not([name])").click()  # Publish
    page.wait_for_url("**/organisers/updates")
    assert page.locator(".flash-success").is_visible()
    for _ in range(3):  # the worker queues the mailing, then sends it
        run_the_mail_worker(app)
    [news] = [m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == "ada.first.day@example.ac.uk"]
    assert "We delivered the letter on Monday.\n\nThank you for signing." in news.text(), news.text()
    reader = page_for(width=width, language="en")
    reader.goto(live_server + "/en/")
    assert reader.locator(".news .timeline li").first.locator("p:not(.news-date)").all_inner_texts() == [
        "We delivered the letter on Monday.",
        "Thank you for signing.",
    ]

    # Thursday: Ada asks to be taken off. She signed on the first day, 10,000 signatures ago.
    follow_header_link(page, "/organisers/")
    page.wait_for_url("**/organisers/")
    assert f">{ada}</td>" not in page.content(), "the first page is the newest"
    page.locator("#q").fill("lovelace")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/organisers/?q=lovelace*")
    rows = page.locator("#signatures tbody tr")
    assert rows.count() == 1 and "Ada Lovelace" in rows.first.inner_text(), rows.all_inner_texts()
    assert page.locator(".showing").inner_text() in ("Showing 1 of 1", "显示 1 个，共 1 个")
    assert no_sideways_scrolling(page)
    if os.environ.get("SCREENSHOT_DIR"):
        picture = Path(os.environ["SCREENSHOT_DIR"]) / f"dashboard-{width}-{language}.png"
        page.screenshot(path=str(picture), full_page=True)
    rows.first.locator(f'a[href="/organisers/signatures/{ada}"]').click()
    page.wait_for_url(f"**/organisers/signatures/{ada}")
    page.locator("#reason-hide").fill("She asked by email to be taken off the letter")
    page.locator("form[action$='/hide'] button").click()
    page.wait_for_url(f"**/organisers/signatures/{ada}")
    assert page.locator(".flash-success").is_visible()
    page.goto(live_server + "/organisers/?review=hidden&q=ada+lov")
    assert page.locator("#signatures tbody tr").count() == 1
    with app.app_context():
        hidden = db.session.get(Signature, ada)
        assert hidden.hidden and not hidden.visible
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "hide")).scalar_one()
        assert entry.reason == "She asked by email to be taken off the letter"

    # Friday: the delivery copy, asked for from the dashboard, made by the worker, downloaded.
    copy_language = "zh" if language.startswith("zh") else "en"
    follow_header_link(page, "/organisers/")
    page.wait_for_url("**/organisers/")
    with page.expect_navigation():
        page.locator(f'form[action="/organisers/delivery/{copy_language}"] button').click()
    run_the_mail_worker(app)
    page.reload()  # the dashboard, as the organiser reloads it once the worker is done
    download_link = page.locator('#delivery a.button[href*="/organisers/delivery/copies/"]')
    assert download_link.count() == 1, page.locator("#delivery").inner_text()
    with page.expect_download() as downloading:
        download_link.click()
    pdf = tmp_path / "delivery.pdf"
    downloading.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and f"delivery-{copy_language}" in downloading.value.suggested_filename
    listed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Scholar 10000" in listed and "Ada Lovelace" not in listed, "every name but the hidden one"
    if os.environ.get("SCREENSHOT_DIR"):
        target = Path(os.environ["SCREENSHOT_DIR"]) / f"delivery-{copy_language}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(target)], check=True)
    assert page.console_errors == [] and page.elsewhere == []
    assert reader.console_errors == [] and reader.elsewhere == []
