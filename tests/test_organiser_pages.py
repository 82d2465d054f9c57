"""The organisers' pages: a header of their own (their pages, who is logged in, Log out; no public
Sign button), and every word of them in the organiser's language, the audit log included."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.news.models import Update
from petition.organisers import audit
from petition.organisers.models import Organiser
from petition.signatures.models import Signature
from tests.support import confirmed_signature, csrf_token, log_in, sign_as
from tests.test_locales import CATALOGUE, read_catalogue

PASSWORD = "correct horse battery"


class PageText(HTMLParser):
    """What a reader meets on a page: its text, and the words of its labels and titles; not what
    a part marked lang="en" (the English preview of news) says in English on purpose."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt")

    def __init__(self):
        super().__init__()
        self.parts, self.skipping, self.english = [], 0, []  # english: [tag, depth] of a lang="en" part

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in ("script", "style")
        if self.english and tag == self.english[0]:
            self.english[1] += 1
        elif not self.english and tag != "html" and dict(attrs).get("lang") == "en":
            self.english = [tag, 1]
        if not self.english:
            self.parts.extend(value for name, value in attrs if name in self.SPOKEN and value)

    def handle_endtag(self, tag):
        self.skipping -= tag in ("script", "style")
        if self.english and tag == self.english[0]:
            self.english[1] -= 1
            if self.english[1] == 0:
                self.english = []

    def handle_data(self, data):
        if not self.skipping and not self.english:
            self.parts.append(data)

    @classmethod
    def of(cls, html):
        reader = cls()
        reader.feed(html)
        return re.sub(r"\s+", " ", " ".join(reader.parts))


def english_sentences():
    """Every run of 3 or more words of the catalogue's English (the parts between placeholders),
    with the Chinese that stands for it, so that what the Chinese keeps as it is (product names) is
    not counted."""
    sentences = []
    for message in read_catalogue(CATALOGUE):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        translated = " ".join(message.string if isinstance(message.string, tuple) else (message.string,))
        for msgid in filter(None, ids):
            for part in re.split(r"%\(\w+\)[sd]|%[sd]", msgid):
                part = part.strip(" .,:;()“”\"'—-")
                if len(re.findall(r"[A-Za-z]{2,}", part)) >= 3 and part not in translated:
                    sentences.append(part)
    return sentences


@pytest.fixture
def busy_site(app, runner, client):
    """An admin logged in on a site with something on every page: signatures in each state, news,
    and an audit log written by the command line, by hand and by a bulk hide."""
    result = runner.invoke(args=["organisers", "create", "admin@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["organisers", "set-role", "admin@example.org", "admin"]).exit_code == 0
    with app.app_context():
        confirmed_signature(name="Ada Lovelace", email="ada@example.ac.uk")
        confirmed_signature(name="Grace Hopper", email="grace@spam.example")
        admin = db.session.execute(select(Organiser)).scalar_one()
        update = Update(published_on=__import__("datetime").date(2026, 12, 1), title_en="T", title_zh="标题")
        update.body_en, update.body_zh = "Body.", "正文。"
        db.session.add(update)
        db.session.flush()
        audit.record(admin, "publish-update", f"update #{update.id}", "emailed to subscribers")
        audit.record(admin, "export", "all signatures")
        audit.record(admin, "delivery", "delivery copy (zh)")
        audit.record(admin, "delivery-download", "delivery copy #7 (en, list 0123456789abcdef)")
        audit.record(admin, "enrol-2fa", "organiser admin@example.org")
        audit.record(admin, "bulk-hide", "3 signatures: domain spam.example, signed from the start until now", "spam")
        db.session.commit()
    sign_as(client, name="Pending Person", email="pending@example.org")
    assert log_in(client, "admin@example.org", PASSWORD).status_code == 302
    with app.app_context():
        ids = db.session.execute(select(Signature.id).order_by(Signature.id)).scalars().all()
        update_id = db.session.execute(select(Update.id)).scalar_one()
    token = csrf_token(client, f"/organisers/signatures/{ids[1]}")
    client.post(f"/organisers/signatures/{ids[1]}/hide", data={"reason": "spam", "csrf_token": token})
    client.get("/organisers/account")  # its message, in the language it was done in
    return client, ids, update_id


def organiser_pages(client, ids, update_id):
    """Every organiser page, as each is reached: (what, response)."""
    gets = [
        "/organisers/",
        "/organisers/?review=listing",
        "/organisers/?review=hidden&q=grace",
        "/organisers/?group=martian&from=yesterday&q=@",
        f"/organisers/signatures/{ids[0]}",
        f"/organisers/signatures/{ids[1]}",
        "/organisers/bulk-hide",
        "/organisers/updates",
        f"/organisers/updates/{update_id}",
        "/organisers/account",
        "/organisers/enrol",
    ]
    pages = [(path, client.get(path)) for path in gets]

    def post(path, form_at, **data):
        return client.post(path, data={**data, "csrf_token": csrf_token(client, form_at)})

    detail = f"/organisers/signatures/{ids[0]}"
    news = {"published_on": "2026-12-01", "title_en": "T", "title_zh": "标题", "body_en": "A\nB", "body_zh": "甲\n乙"}
    pages += [
        ("bulk hide preview", post("/organisers/bulk-hide", "/organisers/bulk-hide", domain="x.org")),
        ("delete asks", post(f"{detail}/delete", detail, reason="r")),
        ("hide without a reason", post(f"{detail}/hide", detail)),
        ("news preview", post("/organisers/updates", "/organisers/updates", preview="yes", email="y", **news)),
    ]
    return pages


def test_every_organiser_page_has_the_organisers_header_and_no_sign_button(busy_site):
    client, ids, update_id = busy_site
    for what, response in organiser_pages(client, ids, update_id):
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 422), what
        header = html.split("<header", 1)[1].split("</header>", 1)[0]
        assert 'class="nav-sign"' not in html and 'href="/sign"' not in header, what
        for link in ("/organisers/", "/organisers/?review=listing", "/organisers/updates", "/organisers/#delivery"):
            assert f'href="{link}"' in header, (what, link)
        assert "admin@example.org, admin" in header and 'action="/organisers/logout"' in header, what
        assert "/language/zh?next=" in header, what


def test_the_login_page_has_a_header_without_the_public_menu_or_sign_button(client):
    html = client.get("/organisers/login").get_data(as_text=True)
    header = html.split("<header", 1)[1].split("</header>", 1)[0]
    assert 'class="nav-sign"' not in header and "nav-pages" not in header and "/signatories" not in header
    assert "/language/zh?next=/organisers/login" in header


def test_a_viewer_sees_only_the_pages_a_viewer_may_use(app, runner, client):
    result = runner.invoke(
        args=["organisers", "create", "viewer@example.org", "--role", "viewer"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0
    log_in(client, "viewer@example.org", PASSWORD)
    header = client.get("/organisers/").get_data(as_text=True).split("</header>", 1)[0]
    assert "/organisers/updates" not in header and "#delivery" not in header and "review=listing" not in header
    assert "viewer@example.org, viewer" in header and 'href="/organisers/account"' in header


def test_log_out_in_the_header_ends_the_session(busy_site):
    client, _, _ = busy_site
    html = client.get("/organisers/account").get_data(as_text=True)
    logout = r'action="/organisers/logout"[^>]*>\s*<input name="csrf_token" type="hidden" value="([^"]+)"'
    token = re.search(logout, html)
    assert client.post("/organisers/logout", data={"csrf_token": token.group(1)}).status_code == 302
    assert client.get("/organisers/").status_code == 302


def test_every_organiser_page_in_chinese_has_no_english_sentence_of_the_catalogue(busy_site):
    client, ids, update_id = busy_site
    client.get("/language/zh?next=/organisers/")
    sentences = english_sentences()
    assert "from the command line" in sentences and len(sentences) > 100
    for what, response in organiser_pages(client, ids, update_id):
        html = response.get_data(as_text=True)
        assert '<html lang="zh-Hans">' in html, what
        text = PageText.of(html)
        left = [sentence for sentence in sentences if sentence in text]
        assert left == [], what
    login = app_client_in_chinese(client)
    assert [sentence for sentence in sentences if sentence in PageText.of(login)] == []


def app_client_in_chinese(client):
    other = client.application.test_client()
    other.get("/language/zh?next=/organisers/login")
    return other.get("/organisers/login").get_data(as_text=True)


def test_the_audit_log_reads_in_chinese(busy_site):
    client, ids, update_id = busy_site
    client.get("/language/zh?next=/organisers/")
    log = PageText.of(client.get("/organisers/").get_data(as_text=True).split('aria-label="操作记录"', 1)[1])
    for chinese in ("来自命令行", "组织者 admin@example.org（管理员）", f"签名 #{ids[1]}", f"动态 #{update_id}"):
        assert chinese in log, chinese
    assert "英文递交文本 #7（名单 0123456789abcdef）" in log
    english_words = ("from the command line", "organiser admin", "signature #", "update #", "emailed to", "domain ")
    for english in (*english_words, "delivery copy"):
        assert english not in log, english


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_on_a_phone_the_organiser_header_folds_into_a_menu_of_44_px_targets(page_for, live_server, app, language):
    from tests.support import create_organiser_account

    with app.app_context():
        email, password = create_organiser_account(email=f"phone-{language}@example.org")
    page = page_for(width=390, language=language)
    page.goto(live_server + "/organisers/login")
    page.locator("input[type=email]").fill(email)
    page.locator("input[type=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/organisers/")
    assert not page.locator(".nav-pages").is_visible() and not page.locator(".nav-sign").count()
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")
    page.locator(".nav-menu summary").click()
    targets = page.locator(".site-nav > a, .nav-menu summary, .nav-menu li a, .nav-menu .nav-logout")
    heights = [targets.nth(i).bounding_box()["height"] for i in range(targets.count())]
    assert len(heights) >= 7 and min(heights) >= 44, heights
    assert email.lower() in page.locator(".nav-menu").inner_text()
    page.locator(".nav-menu .nav-logout").click()
    page.wait_for_url(f"{live_server}/")
    assert page.console_errors == [] and page.elsewhere == []
