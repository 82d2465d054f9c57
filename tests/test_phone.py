"""The public pages on a phone (390 px), in real Chromium: what a thumb presses, what fits the
screen, and how a title breaks."""

import pytest

from tests.support import confirmed_signature

pytestmark = pytest.mark.browser

PHONE = 390


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_header_target_on_a_phone_is_at_least_44_px_tall(page_for, live_server, language):
    page = page_for(width=PHONE, language=language)
    page.goto(live_server + "/")
    page.locator(".nav-menu summary").click()
    targets = page.locator(".site-nav > a, .nav-menu summary, .nav-menu li a")
    heights = [targets.nth(i).bounding_box()["height"] for i in range(targets.count())]
    assert len(heights) >= 5 and min(heights) >= 44, heights


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_day_by_day_table_fits_a_phone(page_for, live_server, app, language):
    with app.app_context():
        confirmed_signature(email="phone.table@example.org")
    page = page_for(width=PHONE, language=language)
    page.goto(live_server + "/signatories/growth")
    scroll, shown = page.evaluate("(t => [t.scrollWidth, t.clientWidth])(document.querySelector('.table-scroll'))")
    assert scroll <= shown, "a column is out of sight"


def last_line_characters(page, selector):
    """How many characters stand on the element's last rendered line."""
    return page.evaluate(
        """selector => {
            const element = document.querySelector(selector);
            const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
            const tops = [];
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (let i = 0; i < node.length; i++) {
                    const range = document.createRange();
                    range.setStart(node, i); range.setEnd(node, i + 1);
                    const box = range.getBoundingClientRect();
                    if (box.width > 0 && node.data[i].trim()) tops.push(Math.round(box.top));
                }
            }
            const last = Math.max(...tops);
            return tops.filter(top => top === last).length;
        }""",
        selector,
    )


def test_the_chinese_title_leaves_no_lone_character_on_a_phone(page_for, live_server):
    page = page_for(width=PHONE, language="zh-CN")
    page.goto(live_server + "/zh/")
    assert last_line_characters(page, "h1") >= 3


@pytest.mark.parametrize("width, visible", [(PHONE, "press and hold the code"), (1280, "scan this code in WeChat")])
def test_the_wechat_instruction_fits_the_screen_it_is_read_on(page_for, live_server, width, visible):
    page = page_for(width=width)
    page.goto(live_server + "/en/")
    caption = page.locator(".share-qr figcaption").inner_text()
    assert visible in caption and len(caption) < 140, caption
