"""The whole site in English and Simplified Chinese."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.support import PROJECT_ROOT, csrf_token, emails_to, link_in_latest_email, press_confirm, sign_as

PUBLIC_PAGES = ["/", "/background", "/sign", "/signatories", "/privacy", "/resend", "/sign/check-your-email"]
CATALOGUE = PROJECT_ROOT / "petition" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
HEADINGS = {"en": "Open letter on labour NGOs in Guangdong", "zh": "关于广东劳工NGO的公开信"}


def read_catalogue(path):
    with path.open("rb") as file:
        return read_po(file)


def html_lang(html):
    return re.search(r'<html lang="([^"]+)">', html).group(1)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("language, lang_attribute, other", [("en", "en", "zh"), ("zh", "zh-Hans", "en")])
def test_every_public_page_has_an_address_in_each_language(client, path, language, lang_attribute, other):
    response = client.get(f"/{language}{path}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html_lang(html) == lang_attribute
    assert HEADINGS[language] in html
    # The switcher goes to the same page in the other language (and remembers the choice).
    assert f'href="/language/{other}?next=/{other}{path}"' in html
    for code in ("en", "zh-Hans"):
        assert re.search(rf'<link rel="alternate" hreflang="{code}" href="https://letter.example.org/(en|zh)', html)


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("zh-CN,zh;q=0.9,en;q=0.5", "zh-Hans"),
        ("zh-TW", "zh-Hans"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR", "en"),
        (None, "en"),
    ],
)
def test_an_unprefixed_address_follows_the_browser(client, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    assert html_lang(client.get("/", headers=headers).get_data(as_text=True)) == expected


def test_the_switcher_choice_is_remembered_over_the_browser(client):
    response = client.get("/language/zh?next=/zh/signatories")
    assert response.status_code == 302 and response.headers["Location"] == "/zh/signatories"
    assert "lang=zh" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    page = client.get("/sign", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_lang(page) == "zh-Hans"
    assert client.get("/language/en?next=https://evil.example/").headers["Location"] == "/en/"


def test_links_on_a_chinese_page_stay_in_chinese(client):
    html = client.get("/zh/").get_data(as_text=True)
    assert 'href="/zh/sign"' in html and 'href="/zh/signatories"' in html and 'href="/zh/background"' in html


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "请填写姓名。"),
        ("email", "not-an-address", "请填写有效的邮箱地址"),
        ("affiliation", "y" * 301, "最多 300 个字符，现有 301 个。"),
        ("group", "martian", "请选择您以哪种身份联署。"),
    ],
)
def test_form_errors_are_in_the_page_language(client, field, value, message):
    form = {
        "name": "王小明",
        "affiliation": "中山大学",
        "email": "wang@example.edu.cn",
        "group": "chinese",
        field: value,
        "csrf_token": csrf_token(client, "/zh/sign"),
    }
    response = client.post("/zh/sign", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "请修改下面标出的栏目" in html


def test_a_chinese_signer_gets_every_email_in_chinese_with_chinese_links(client, app):
    form = {
        "name": "王小明",
        "affiliation": "中山大学",
        "email": "wang@example.edu.cn",
        "group": "chinese",
        "listed": "y",
        "csrf_token": csrf_token(client, "/zh/sign"),
    }
    assert client.post("/zh/sign", data=form).headers["Location"] == "/zh/sign/check-your-email"
    [first] = emails_to(app, "wang@example.edu.cn")
    assert first.subject == "请确认您在公开信上的签名"
    assert "王小明，您好" in first.body and "https://letter.example.org/zh/confirm/" in first.body
    assert "https://letter.example.org/zh/signature/" in first.body and "Dear" not in first.body
    press_confirm(client, link_in_latest_email(app, "wang@example.edu.cn"))
    sign_as(client, email="wang@example.edu.cn")  # again, from an English page: still answered in Chinese
    second = emails_to(app, "wang@example.edu.cn")[-1]
    assert "王小明，您好" in second.body and "https://letter.example.org/zh/signature/" in second.body
    assert "Dear" not in second.body


def test_an_english_signer_gets_english_emails(client, app):
    sign_as(client)
    [email] = emails_to(app, "ada@example.ac.uk")
    assert email.subject == "Please confirm your signature on the open letter" and "Dear Ada Lovelace" in email.body
    assert "https://letter.example.org/en/confirm/" in email.body


def test_group_names_and_dates_read_naturally_in_chinese(client, app):
    from tests.support import confirmed_signature

    with app.app_context():
        confirmed_signature(name="李华", affiliation="香港中文大学", email="li@example.hk", group="chinese")
    html = client.get("/zh/signatories").get_data(as_text=True)
    assert "中国学者" in html and re.search(r"\d{4}年\d{1,2}月\d{1,2}日", html)
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", client.get("/en/signatories").get_data(as_text=True)), "6 Dec 2026"


@pytest.mark.parametrize("path, formatted", [("/en/", "1,234,567"), ("/zh/", "1,234,567")])
def test_numbers_are_formatted_for_the_language(app, path, formatted):
    from flask import render_template_string

    with app.test_request_context(path):
        app.preprocess_request()
        assert render_template_string("{{ 1234567|number }}") == formatted


def test_every_message_in_the_chinese_catalogue_is_translated_and_none_is_fuzzy():
    catalogue = read_catalogue(CATALOGUE)
    problems = [
        m.id
        for m in catalogue
        if m.id and (not all(m.string if isinstance(m.string, tuple) else [m.string]) or m.fuzzy)
    ]
    assert problems == []


def test_the_catalogue_holds_every_string_in_the_code_and_templates(tmp_path):
    """Fails when a new English string ships without going through `make translations`."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    in_code = {m.id for m in read_catalogue(pot) if m.id}
    translated = {m.id for m in read_catalogue(CATALOGUE) if m.id}
    assert in_code - translated == set()


@pytest.mark.parametrize("name", ["letter", "background", "privacy"])
def test_each_content_file_exists_in_both_languages(app, name):
    directory = Path(app.config["CONTENT_DIR"])
    assert (directory / f"{name}.en.md").exists() and (directory / f"{name}.zh.md").exists()


def test_the_chinese_letter_makes_as_many_demands_as_the_english_one(app):
    # Structure, not wording: organisers may edit the letter; the two languages must stay in step.
    directory = Path(app.config["CONTENT_DIR"])
    texts = {lang: (directory / f"letter.{lang}.md").read_text(encoding="utf-8") for lang in ("en", "zh")}
    shape = {
        lang: (len(re.findall(r"^\d+\. ", text, re.M)), len(re.findall(r"^#+ ", text, re.M)))
        for lang, text in texts.items()
    }
    assert shape["en"] == shape["zh"] and shape["en"][0] >= 1


def test_a_negotiated_address_tells_caches_it_varies_and_a_language_address_does_not(client):
    assert {"Accept-Language", "Cookie"} <= set(client.get("/signatories").vary)
    assert "Accept-Language" not in client.get("/zh/signatories").vary


def copy_of_translations(tmp_path):
    import shutil

    target = tmp_path / "translations"
    shutil.copytree(PROJECT_ROOT / "petition" / "translations", target, ignore=shutil.ignore_patterns("*.mo"))
    return target


def test_a_deployment_without_compiled_catalogues_compiles_them_and_speaks_chinese(app_factory, tmp_path):
    # pip install -r requirements.txt builds no .mo: the Chinese pages once came out in English, silently.
    translations = copy_of_translations(tmp_path)
    assert not list(translations.glob("*/LC_MESSAGES/*.mo"))
    site = app_factory(BABEL_TRANSLATION_DIRECTORIES=str(translations))
    assert list(translations.glob("zh/LC_MESSAGES/messages.mo"))
    html = site.test_client().get("/zh/sign").get_data(as_text=True)
    assert "电子邮箱" in html and "Email address" not in html


def test_a_catalogue_that_cannot_be_compiled_stops_the_start_with_a_way_out(app_factory, tmp_path):
    from petition.config import ConfigurationError

    translations = copy_of_translations(tmp_path)
    (translations / "zh" / "LC_MESSAGES" / "messages.mo.partial").mkdir()  # nothing can be written there
    with pytest.raises(ConfigurationError, match="pybabel compile"):
        app_factory(BABEL_TRANSLATION_DIRECTORIES=str(translations))


def test_each_browser_gets_the_language_its_own_header_asks_for_one_after_another(client):
    # The answer for a header is kept: a later browser with another header must not get it.
    browsers = [("zh-CN", "zh-Hans"), ("en-US", "en"), ("zh-CN", "zh-Hans"), ("", "en"), ("zh", "zh-Hans")]
    for accept, expected in browsers:
        assert html_lang(client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)) == expected


@pytest.mark.parametrize(
    "accept",
    ["", ";;;,,,", "zh;q=banana", "en;q=-1, zh;q=2", "*", "x" * 8000, "zh-CN;q=0.9," * 300, "\u00e9\u00e8"],
)
def test_a_hostile_accept_language_header_gets_a_page_in_a_language_the_site_has(client, accept):
    response = client.get("/sign", headers={"Accept-Language": accept.encode("utf-8").decode("latin-1")})
    assert response.status_code == 200 and html_lang(response.get_data(as_text=True)) in ("en", "zh-Hans")


def test_endless_different_accept_language_headers_hold_a_bounded_memory(client):
    from petition.web.locales import browser_language

    for n in range(600):
        assert client.get("/privacy", headers={"Accept-Language": f"zh;q=0.{n:03d}, en"}).status_code == 200
    assert browser_language.cache_info().currsize <= 256


@pytest.mark.parametrize(
    "path, words", [("/zh/no-such-page", "此网址没有对应的页面"), ("/en/no-such-page", "There is no page")]
)
def test_a_missing_page_under_a_language_is_told_in_that_language(client, path, words):
    """A reader who followed a /zh/ link that is wrong reads why in Chinese, whatever the browser says."""
    browser = "en-GB,en;q=0.9" if path.startswith("/zh/") else "zh-CN,zh;q=0.9"
    response = client.get(path, headers={"Accept-Language": browser})
    assert response.status_code == 404
    assert words in response.get_data(as_text=True)


def test_chinese_addresses_the_reader_as_您_throughout():
    """A request to scholars says 您: one register, on purpose, in pages, emails and content."""
    catalogue = read_catalogue(CATALOGUE)
    informal = [message.id for message in catalogue if message.id and "你" in (message.string or "")]
    assert informal == []
    for path in (PROJECT_ROOT / "petition" / "content").glob("*.zh.md"):
        assert "你" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("language, written", [("en", "1 December 2026"), ("zh", "2026年12月1日")])
def test_dates_are_written_as_each_language_writes_them(client, organiser_client, language, written):
    """British English on an English site (not "Dec 1, 2026"); the Chinese long date in Chinese."""
    token = csrf_token(organiser_client, "/organisers/updates")
    data = {"csrf_token": token, "published_on": "2026-12-01", "title_en": "News", "title_zh": "消息"}
    data |= {"body_en": "Text.", "body_zh": "正文。"}
    assert organiser_client.post("/organisers/updates", data=data).status_code == 302
    page = client.get(f"/{language}/").get_data(as_text=True)
    assert written in page and "Dec 1, 2026" not in page
