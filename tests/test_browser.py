"""Real headless Chromium against the site served by gunicorn: a scholar signs and the count goes up."""
import pytest

pytestmark = pytest.mark.browser


def count_on(page, key):
    return int(page.locator(f'.letter-aside [data-count="{key}"]').inner_text().replace(",", ""))


def test_a_scholar_on_a_phone_signs_and_sees_the_count_go_up(page_for, live_server):
    page = page_for(width=390)
    page.goto(live_server + "/")
    before_total, before_chinese = count_on(page, "total"), count_on(page, "chinese")

    page.get_by_role("link", name="Sign this letter").first.click()
    page.wait_for_url("**/sign")
    page.get_by_label("Full name", exact=True).fill("王小明")
    page.get_by_label("Affiliation", exact=True).fill("中山大学社会学与人类学学院")
    page.get_by_label("Email address", exact=True).fill("wang.browser@example.edu.cn")
    page.get_by_label("Chinese scholar").check()
    assert page.get_by_label("Show my name and affiliation in the public list").is_checked()
    page.get_by_role("button", name="Sign").click()

    page.wait_for_url("**/thank-you")
    assert "Thank you for signing" in page.content()
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
    error = page.locator("#email-errors")
    assert "Enter a valid email address" in error.inner_text()
    assert "Choose international scholar or Chinese scholar." in page.locator("#group-errors").inner_text()
    assert page.get_by_label("Full name", exact=True).input_value() == "Ada Lovelace"
    assert page.get_by_label("Email address", exact=True).get_attribute("aria-invalid") == "true"
    assert page.elsewhere == [] and page.console_errors == []


def test_an_open_page_updates_its_counts_without_a_reload(page_for, live_server):
    watcher = page_for()
    watcher.goto(live_server + "/")
    before = count_on(watcher, "total")
    signer = page_for(width=390)
    signer.goto(live_server + "/sign")
    signer.get_by_label("Full name", exact=True).fill("Grace Hopper")
    signer.get_by_label("Affiliation", exact=True).fill("Yale University")
    signer.get_by_label("Email address", exact=True).fill("grace.browser@example.edu")
    signer.get_by_label("International scholar").check()
    signer.get_by_role("button", name="Sign").click()
    signer.wait_for_url("**/thank-you")
    watcher.wait_for_function(
        "n => Number(document.querySelector('.letter-aside [data-count=\"total\"]').textContent.replace(/,/g, '')) > n",
        arg=before, timeout=15000,
    )
    assert watcher.elsewhere == [] and watcher.console_errors == []
