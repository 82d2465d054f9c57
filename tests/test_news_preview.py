"""Before news is published or emailed, organisers see it as the letter's page will show it and as
the email will be sent (subject, text, HTML part), in both languages, made by the same code; the
form keeps what was typed, and nothing is saved until Publish."""

import re
from html import unescape

from sqlalchemy import func, select

from petition.extensions import db
from petition.mail.mailings import queue_due_mailings, write_waiting
from petition.mail.models import OutgoingEmail
from petition.news.models import Update
from petition.organisers.models import AuditEntry
from tests.support import csrf_token, link_in_latest_email, press_confirm, signature_form

NEWS = {
    "published_on": "2026-12-01",
    "title_en": "Delivered to the Guangdong government",
    "title_zh": "已递交广东省政府",
    # As a browser sends a text area: lines typed with Enter, CR LF.
    "body_en": "We handed the letter to the **provincial** office.\r\nThank you for signing & sharing it.",
    "body_zh": "我们已把公开信递交省政府。\r\n感谢您的联署。",
}


def preview(client, **changes):
    data = {**NEWS, **changes, "csrf_token": csrf_token(client, "/organisers/updates"), "preview": "yes"}
    return client.post("/organisers/updates", data=data)


def page_part(html):
    """The preview of the letter's page, in the first language that `html` holds."""
    return html.split("On the letter's page</h4>", 1)[1].split("<h4>", 1)[0]


def test_a_preview_shows_the_page_and_the_email_in_both_languages_and_saves_nothing(app, organiser_client):
    response = preview(organiser_client, email="y")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview: nothing is published yet" in html
    # The form as typed, the box ticked, ready to publish.
    assert "Thank you for signing &amp; sharing it.</textarea>" in html and "感谢您的联署。</textarea>" in html
    assert re.search(r'<input(?=[^>]*name="email")(?=[^>]*checked)[^>]*>', html)
    english, chinese = html.split("<h3>In English</h3>", 1)[1].split("<h3>In Chinese</h3>", 1)
    page = page_part(english)
    assert "<h2>News</h2>" in page and "1 December 2026" in page
    assert "<p>We handed the letter to the <strong>provincial</strong> office.</p>" in page
    assert "<p>Thank you for signing &amp; sharing it.</p>" in page, "a line typed with Enter is a paragraph"
    assert "News about the open letter: Delivered to the Guangdong government" in english
    assert "https://letter.example.org/en/unsubscribe/" in english
    chinese_page = page_part(chinese)
    assert "2026年12月1日" in chinese_page and "<p>我们已把公开信递交省政府。</p>" in chinese_page
    assert "<p>感谢您的联署。</p>" in chinese_page
    assert "已递交广东省政府" in chinese and "https://letter.example.org/zh/unsubscribe/" in chinese
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Update)).scalar_one() == 0
        assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 1, "the login only"


def test_a_preview_with_mistakes_shows_them_and_no_preview(organiser_client):
    response = preview(organiser_client, title_zh="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Preview: nothing is published yet" not in html
    assert "Write this in both languages." in html


def test_what_is_published_and_sent_is_what_the_preview_showed(app, client, organiser_client):
    form = signature_form(email="reader@example.org", updates="y")
    form["csrf_token"] = csrf_token(client, "/en/sign")
    assert client.post("/en/sign", data=form).status_code == 302
    press_confirm(client, link_in_latest_email(app, "reader@example.org"))
    shown = preview(organiser_client, email="y").get_data(as_text=True).split("<h3>In Chinese</h3>")[0]
    data = {**NEWS, "email": "y", "csrf_token": csrf_token(organiser_client, "/organisers/updates")}
    assert organiser_client.post("/organisers/updates", data=data).status_code == 302
    with app.app_context():
        queue_due_mailings()
        db.session.commit()
        [email] = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.update_id.is_not(None))).scalars()
        assert write_waiting([email]) == {}, "written as the worker writes it when it sends it"
        subject, body, unsubscribe = email.subject, email.body, email.unsubscribe_url
    text = unescape(re.search(r'<pre class="preview-email-text" lang="en">(.*?)</pre>', shown, re.S).group(1))
    token = re.compile(r"/unsubscribe/\S+")
    assert token.sub("/unsubscribe/…", text) == token.sub("/unsubscribe/…", body)
    assert "\n\nThank you for signing & sharing it." in body, "a paragraph in the text as well"
    assert unescape(subject) in unescape(shown) and unsubscribe.startswith("https://letter.example.org/en/unsubscribe/")
    letter = client.get("/en/").get_data(as_text=True)
    entry = re.search(r'<li id="update-\d+">(.*?)</li>', letter, re.S).group(1)
    assert entry.strip() in page_part(shown)


def test_the_html_part_shows_each_paragraph(app):
    from petition.mail.email_text import html_version, markdown_as_text

    text = markdown_as_text("First line.\nSecond line.\n\n- one\n- two", "https://letter.example.org/en/")
    assert text == "First line.\n\nSecond line.\n\n- one\n- two"
    html = html_version(text)
    assert "<p>First line.</p>" in html and "<p>Second line.</p>" in html and "<p>- one<br>\n- two</p>" in html
