"""News about the letter: the signer's choice, publishing, the timeline and feeds, emails through a
real SMTP server with a one-click unsubscribe (RFC 8058), batches that never send twice."""

import re
import time
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from petition.extensions import db
from petition.mail.mailings import mailings_due, queue_due_mailings
from petition.mail.models import OutgoingEmail
from petition.mail.outbox import email_row
from petition.news import publishing as news
from petition.news.models import Update
from petition.organisers.models import AuditEntry
from petition.signatures.models import Signature
from tests.support import csrf_token, link_in_latest_email, press_confirm, sign_as, signature_form


def signer(client, app, email, updates=True, language="en"):
    """Sign in `language` (ticking "Email me news" or not) and confirm, as a person does."""
    form = signature_form(email=email, **({"updates": "y"} if updates else {}))
    form["csrf_token"] = csrf_token(client, f"/{language}/sign")
    assert client.post(f"/{language}/sign", data=form).status_code == 302
    press_confirm(client, link_in_latest_email(app, email))


def publish(organiser_client, email=True, title="Delivered to the Guangdong government"):
    token = csrf_token(organiser_client, "/organisers/updates")
    data = {
        "csrf_token": token,
        "published_on": "2026-12-01",
        "title_en": title,
        "title_zh": "已递交广东省政府",
        "body_en": "We handed the letter to the **provincial** office.",
        "body_zh": "我们已把公开信递交省政府。",
        **({"email": "y"} if email else {}),
    }
    response = organiser_client.post("/organisers/updates", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def news_emails(app):
    with app.app_context():
        return db.session.execute(select(OutgoingEmail).where(OutgoingEmail.update_id.is_not(None))).scalars().all()


def test_the_choice_is_offered_unticked_and_kept(client, app):
    html = client.get("/en/sign").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="updates"[^>]*>', html).group(0)
    assert "checked" not in box
    signer(client, app, "yes@example.org", updates=True)
    signer(client, app, "no@example.org", updates=False)
    with app.app_context():
        chosen = dict(db.session.execute(select(Signature.email, Signature.wants_updates)).all())
    assert chosen == {"yes@example.org": True, "no@example.org": False}


def test_published_news_shows_on_the_letter_newest_first_and_in_each_languages_feed(client, organiser_client):
    publish(organiser_client, email=False, title="First news")
    publish(organiser_client, email=False, title="Second news")
    html = client.get("/en/").get_data(as_text=True)
    assert html.index("Second news") < html.index("First news") < html.index("To the People")
    assert "<strong>provincial</strong>" in html
    for language, title in (("en", "Second news"), ("zh", "已递交广东省政府")):
        response = client.get(f"/{language}/updates.atom")
        assert response.mimetype == "application/atom+xml"
        feed = ElementTree.fromstring(response.get_data())
        atom = "{http://www.w3.org/2005/Atom}"
        entries = feed.findall(f"{atom}entry")
        assert len(entries) == 2 and entries[0].find(f"{atom}title").text == title
        assert entries[0].find(f"{atom}content").text.startswith("<p>"), "HTML, escaped inside the XML"


def test_news_goes_to_each_subscriber_once_in_their_language_with_one_click_unsubscribe(
    client, app, organiser_client, smtp_server, runner
):
    signer(client, app, "wants@example.org", updates=True)
    signer(app.test_client(), app, "quiet@example.org", updates=False)
    chinese = app.test_client()
    signer(chinese, app, "zhong@example.org", updates=True, language="zh")
    sign_as(app.test_client(), email="unconfirmed@example.org", updates="y")  # never confirmed: no news
    publish(organiser_client, email=True)
    deadline = time.monotonic() + 10  # the worker runs on; news goes out at NEWS_PER_MINUTE
    while sum(1 for m in smtp_server.messages if m["List-Unsubscribe"]) < 2 and time.monotonic() < deadline:
        assert runner.invoke(args=["mail", "deliver"]).exit_code == 0
        time.sleep(0.1)
    assert runner.invoke(args=["mail", "deliver"]).exit_code == 0  # and on: nothing is sent twice
    news_messages = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages if m["List-Unsubscribe"]}
    assert set(news_messages) == {"wants@example.org", "zhong@example.org"}
    english, zh = news_messages["wants@example.org"], news_messages["zhong@example.org"]
    assert "Delivered to the Guangdong government" in english["Subject"] and "已递交" in zh["Subject"]
    assert "我们已把公开信递交省政府" in zh.text()
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = english["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://letter.example.org/en/unsubscribe/") and url in english.text()
    assert len(news_emails(app)) == 2


def test_one_click_unsubscribe_needs_no_cookie_or_token_and_can_be_repeated(client, app, organiser_client):
    signer(client, app, "leaving@example.org", updates=True)
    publish(organiser_client, email=True)
    with app.app_context():
        queue_due_mailings()
        db.session.commit()
        path = urlsplit(news.unsubscribe_url(db.session.execute(select(Signature)).scalar_one())).path
    assert len(news_emails(app)) == 1
    stranger = app.test_client()  # a mail program: no session, no CSRF token
    for _ in range(2):
        response = stranger.post(
            path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        assert signature.wants_updates is False and signature.counted, "the signature itself is untouched"
    assert news_emails(app) == [], "the news not yet sent is dropped"
    assert ">Stop the news</button>" not in stranger.get(path).get_data(as_text=True), "no button: nothing left to stop"


def test_the_link_in_the_email_leads_to_a_page_with_a_button(client, app):
    signer(client, app, "reader@example.org", updates=True)
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        path = urlsplit(news.unsubscribe_url(signature)).path
    page = client.get(path)
    assert page.status_code == 200 and "Stop the news" in page.get_data(as_text=True)
    assert page.headers["X-Robots-Tag"] == "noindex"


def test_batches_go_on_from_where_they_stopped_and_the_database_refuses_a_second_copy(client, app, organiser_client):
    for i in range(5):
        signer(app.test_client(), app, f"s{i}@example.org", updates=True)
    publish(organiser_client, email=True)
    with app.app_context():
        sizes = [queue_due_mailings(batch=2) for _ in range(4)]
        db.session.commit()
        assert sizes == [2, 2, 1, 0]
        update = db.session.execute(select(Update)).scalar_one()
        signature = db.session.execute(select(Signature).limit(1)).scalar_one()
        times = sorted(
            e.next_attempt_at
            for e in db.session.execute(select(OutgoingEmail).where(OutgoingEmail.update_id == update.id)).scalars()
        )
        assert times[-1] > times[0], "spread out at NEWS_PER_MINUTE, not all at once"
        again = email_row(signature.email, None, None, signature.id, "update")
        db.session.add(OutgoingEmail(**again, update_id=update.id))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_correcting_and_withdrawing_news_are_audited_and_withdrawn_news_disappears(client, app, organiser_client):
    signer(client, app, "sub@example.org", updates=True)
    publish(organiser_client, email=True, title="Wrong title")
    with app.app_context():
        update_id = db.session.execute(select(Update.id)).scalar_one()
        queue_due_mailings()
        db.session.commit()
    edit = f"/organisers/updates/{update_id}"
    response = organiser_client.post(
        edit,
        data={
            "csrf_token": csrf_token(organiser_client, edit),
            "published_on": "2026-12-02",
            "title_en": "Right title",
            "title_zh": "正确标题",
            "body_en": "Text",
            "body_zh": "正文",
        },
    )
    assert response.status_code == 302
    assert "Right title" in client.get("/en/").get_data(as_text=True)
    token = csrf_token(organiser_client, "/organisers/updates")
    organiser_client.post(f"{edit}/withdraw", data={"csrf_token": token, "reason": "posted too early"})
    assert "Right title" not in client.get("/en/").get_data(as_text=True)
    assert b"Right title" not in client.get("/en/updates.atom").get_data()
    assert news_emails(app) == [], "its emails not yet sent are dropped"
    with app.app_context():
        assert not mailings_due(), "and none is queued any more"
    with app.app_context():
        actions = (
            db.session.execute(
                select(AuditEntry.action).where(AuditEntry.action != "create-account").order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
        assert actions == ["publish-update", "edit-update", "withdraw-update"]
        assert db.session.execute(select(func.count()).select_from(Update)).scalar_one() == 1, "kept for the record"


def test_a_signer_changes_the_choice_on_the_private_page(client, app):
    from tests.support import MANAGE_LINK

    signer(client, app, "changes@example.org", updates=False)
    manage = link_in_latest_email(app, "changes@example.org", MANAGE_LINK)
    data = {
        "csrf_token": csrf_token(client, manage),
        "name": "Ada",
        "affiliation": "U",
        "group": "chinese",
        "listed": "y",
        "updates": "y",
    }
    assert client.post(manage, data=data).status_code == 302
    with app.app_context():
        assert db.session.execute(select(Signature.wants_updates)).scalar_one() is True


def test_the_unsubscribe_header_is_one_address_a_mail_provider_reads_without_decoding(
    client, app, organiser_client, smtp_server, runner
):
    """Providers show their unsubscribe button only for a List-Unsubscribe that holds <https://...>
    as written: RFC 2047 encoded words are not allowed there (RFC 2369), and nobody decodes them."""
    from tests.support import raw_header

    signer(client, app, "reader@example.org", updates=True)
    publish(organiser_client, email=True)
    deliver_until(runner, smtp_server, lambda m: m["List-Unsubscribe-Post"])
    [message] = [m for m in smtp_server.messages if m["List-Unsubscribe-Post"]]
    header = raw_header(message, "List-Unsubscribe")
    assert "=?" not in header, header
    url = re.fullmatch(r"<(https://[^>\s]+)>", header).group(1)
    assert len(url) > 78, "long enough that a naive folder would have encoded it"
    assert urlsplit(url).path.startswith("/en/unsubscribe/")
    assert client.post(urlsplit(url).path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        assert db.session.execute(select(Signature.wants_updates)).scalar_one() is False


def test_a_news_email_reads_as_text_with_paragraphs_and_whole_links(client, app, organiser_client, smtp_server, runner):
    signer(client, app, "reader@example.org", updates=True)
    token = csrf_token(organiser_client, "/organisers/updates")
    body = "We handed the letter to the **provincial** office.\n\nRead the [background article](/en/background)."
    data = {"csrf_token": token, "published_on": "2026-12-01", "title_en": "Delivered", "title_zh": "已递交"}
    data |= {"body_en": body, "body_zh": "我们已递交。", "email": "y"}
    assert organiser_client.post("/organisers/updates", data=data).status_code == 302
    deliver_until(runner, smtp_server, lambda m: m["List-Unsubscribe-Post"])
    [message] = [m for m in smtp_server.messages if m["List-Unsubscribe-Post"]]
    text = message.text()
    assert "**" not in text and "](" not in text
    assert "We handed the letter to the provincial office.\n\nRead the background article" in text
    assert "(https://letter.example.org/en/background)" in text, "a relative link made whole"
    html = message.html()
    assert '<a href="https://letter.example.org/en/background">' in html


def deliver_until(runner, smtp_server, wanted, seconds=10):
    deadline = time.monotonic() + seconds  # news goes out at NEWS_PER_MINUTE
    while not any(wanted(m) for m in smtp_server.messages) and time.monotonic() < deadline:
        assert runner.invoke(args=["mail", "deliver"]).exit_code == 0
        time.sleep(0.1)


def test_news_typed_with_enter_between_paragraphs_is_published_in_both_languages(client, organiser_client):
    """A browser sends a text area's Enter as CR LF: two paragraphs, in English and in Chinese."""
    token = csrf_token(organiser_client, "/organisers/updates")
    data = {"csrf_token": token, "published_on": "2026-12-01", "title_en": "Two paragraphs", "title_zh": "两段"}
    data |= {"body_en": "First paragraph.\r\n\r\nSecond paragraph.", "body_zh": "第一段。\r\n\r\n第二段。"}
    response = organiser_client.post("/organisers/updates", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "<p>First paragraph.</p>\n<p>Second paragraph.</p>" in client.get("/en/").get_data(as_text=True)
    assert "<p>第一段。</p>\n<p>第二段。</p>" in client.get("/zh/").get_data(as_text=True)


@pytest.mark.parametrize(
    "field, value", [("title_en", "Two\r\nlines"), ("body_en", "A bell\x07 rings"), ("body_zh", "右\u202e到左")]
)
def test_news_still_refuses_invisible_characters_other_than_a_bodys_line_breaks(organiser_client, field, value):
    token = csrf_token(organiser_client, "/organisers/updates")
    data = {"csrf_token": token, "published_on": "2026-12-01", "title_en": "T", "title_zh": "标题"}
    data |= {"body_en": "Body.", "body_zh": "正文。", field: value}
    response = organiser_client.post("/organisers/updates", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Remove the invisible control characters" in page or "U+0007" in page, "the field says why"


ATOM = "{http://www.w3.org/2005/Atom}"
RFC_3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def assert_valid_atom(xml):
    """What RFC 4287 requires of a feed, as a strict validator checks it (section 4.1.1: author,
    id, title, updated; 4.1.2: each entry's id, title, updated; dates in RFC 3339)."""
    feed = ElementTree.fromstring(xml)
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}") is not None, f"the feed has no atom:{name}"
    assert RFC_3339.fullmatch(feed.find(f"{ATOM}updated").text)
    feed_author = feed.find(f"{ATOM}author/{ATOM}name")
    assert feed_author is not None and feed_author.text.strip(), "atom:author with a name"
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}") is not None, f"an entry has no atom:{name}"
        for name in ("updated", "published"):
            assert RFC_3339.fullmatch(entry.find(f"{ATOM}{name}").text)
    return feed


def test_each_feed_is_valid_atom_and_a_poll_with_nothing_new_downloads_nothing(client, organiser_client):
    for language in ("en", "zh"):
        assert_valid_atom(client.get(f"/{language}/updates.atom").get_data())  # no news yet
    publish(organiser_client, email=False)
    tags = {}
    for language in ("en", "zh"):
        first = client.get(f"/{language}/updates.atom")
        tags[language] = first.headers["ETag"]
        assert_valid_atom(first.get_data())
        assert first.headers["ETag"] and first.headers["Last-Modified"]
        again = client.get(f"/{language}/updates.atom", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""
        since = client.get(f"/{language}/updates.atom", headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304
    publish(organiser_client, email=False, title="Newer")
    changed = client.get("/en/updates.atom", headers={"If-None-Match": tags["en"]})
    assert changed.status_code == 200 and b"Newer" in changed.get_data()


def post_news(organiser_client, **fields):
    data = {
        "csrf_token": csrf_token(organiser_client, "/organisers/updates"),
        "published_on": "2026-12-01",
        "title_en": "A title",
        "title_zh": "标题",
        "body_en": "Some text.",
        "body_zh": "正文。",
        **fields,
    }
    return organiser_client.post("/organisers/updates", data=data)


def feed_entries(client, language="en"):
    feed = ElementTree.fromstring(client.get(f"/{language}/updates.atom").get_data())  # fails on invalid XML
    return feed.findall("{http://www.w3.org/2005/Atom}entry")


@pytest.mark.parametrize("character", ["\uffff", "\ufffe", "\x00", "\x08", "\x0b", "\x0c", "\x0e", "\x1f"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title_en", "Delivered{}today"),
        ("title_zh", "已递交{}省政府"),
        ("body_en", "We handed{} the letter over."),
        ("body_zh", "我们已递交。{}"),
        ("body_en", "We handed the letter over.{}"),
    ],
)
def test_news_with_a_character_xml_forbids_is_refused_beside_the_field_and_the_feed_stays_valid(
    client, organiser_client, character, field, value
):
    """Feed readers drop a whole feed that is not well-formed XML, as one such character makes it."""
    refused = post_news(organiser_client, **{field: value.format(character)})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f'id="{field}-errors"' in html
    assert f"cannot be published: U+{ord(character):04X}" in html
    publish(organiser_client, email=False)
    assert len(feed_entries(client)) == 1 and len(feed_entries(client, "zh")) == 1


def test_the_message_names_the_character_that_cannot_be_published(organiser_client):
    html = post_news(organiser_client, title_en="Delivered\uffff today").get_data(as_text=True)
    assert "U+FFFF" in html and "cannot be published" in html


REMOTE_IMAGES = [
    "http://other.example/pixel.png",
    "https://other.example/pixel.png",
    "//other.example/pixel.png",
    "HTTP://other.example/pixel.png",
    "http:other.example/pixel.png",
    "https://letter.example.org.other.example/pixel.png",
    "https://letter.example.org@other.example/pixel.png",
]


@pytest.mark.parametrize("source", REMOTE_IMAGES)
def test_news_never_puts_a_remote_image_into_the_page_or_the_feed(client, organiser_client, source):
    body = f'Look: ![the pixel]({source}) and ![a *card*]({source} "its title").'
    assert post_news(organiser_client, body_en=body).status_code == 302
    page = client.get("/en/").get_data(as_text=True)
    [entry] = feed_entries(client)
    in_feed = entry.find("{http://www.w3.org/2005/Atom}content").text
    for html in (page, in_feed):
        assert not re.search(r"<img[^>]*other\.example", html) and 'alt="the pixel"' not in html
        assert ">the pixel</a>" in html and ">a card</a>" in html


def test_news_keeps_images_from_the_site_itself(client, organiser_client):
    body = "![card](/static/share/card-en.png) ![whole](https://letter.example.org/static/share/card-zh.png)"
    assert post_news(organiser_client, body_en=body).status_code == 302
    [entry] = feed_entries(client)
    in_feed = entry.find("{http://www.w3.org/2005/Atom}content").text
    for html in (client.get("/en/").get_data(as_text=True), in_feed):
        assert '<img src="/static/share/card-en.png" alt="card"' in html
        assert '<img src="https://letter.example.org/static/share/card-zh.png" alt="whole"' in html


def correct_update(organiser_client, update_id, title, body):
    edit = f"/organisers/updates/{update_id}"
    data = {"csrf_token": csrf_token(organiser_client, edit), "published_on": "2026-12-02"}
    data |= {"title_en": title, "title_zh": "正确标题", "body_en": body, "body_zh": "正文"}
    assert organiser_client.post(edit, data=data).status_code == 302


def test_news_corrected_after_it_was_queued_goes_out_corrected_and_no_text_is_kept_until_then(
    client, app, organiser_client, smtp_server, runner
):
    """Each news email is written when it is sent: the outbox holds which update and to whom, no text,
    so a correction made while the emails wait reaches every one of them."""
    from sqlalchemy import text

    signer(client, app, "reader@example.org", updates=True)
    publish(organiser_client, email=True, title="Wrong title")
    with app.app_context():
        assert queue_due_mailings() == 1
        db.session.commit()
        update_id = db.session.execute(select(Update.id)).scalar_one()
    [queued] = news_emails(app)
    assert (queued.template, queued.subject, queued.body, queued.unsubscribe_url) == ("update", None, None, None)
    correct_update(organiser_client, update_id, "Right title", "The corrected text.")
    deliver_until(runner, smtp_server, lambda m: m["List-Unsubscribe-Post"])
    [message] = [m for m in smtp_server.messages if m["List-Unsubscribe-Post"]]
    assert "Right title" in message["Subject"] and "The corrected text." in message.text()
    assert "Wrong title" not in message.text()
    with app.app_context():
        stored = db.session.execute(text("SELECT body FROM outgoing_emails WHERE update_id IS NOT NULL")).scalar_one()
    assert stored.startswith("v1.") and "corrected" not in stored, "what was sent is kept sealed"


def test_a_signer_who_stops_the_news_or_withdraws_after_it_was_queued_gets_nothing(
    client, app, organiser_client, smtp_server, runner
):
    """Stopping the news on one's private page (not by the unsubscribe link) and withdrawing both come
    after the email was queued: neither signer is sent it, and the one who kept the news is."""
    from tests.support import MANAGE_LINK

    pages = {}
    for address in ("stays@example.org", "stops@example.org", "leaves@example.org"):
        pages[address] = app.test_client()
        signer(pages[address], app, address, updates=True)
    manage = {address: link_in_latest_email(app, address, MANAGE_LINK) for address in pages}
    publish(organiser_client, email=True)
    with app.app_context():
        assert queue_due_mailings() == 3
        db.session.commit()
    stops = pages["stops@example.org"]
    details = {"name": "Ada", "affiliation": "U", "group": "chinese", "listed": "y"}  # "updates" unticked
    path = manage["stops@example.org"]
    assert stops.post(path, data={**details, "csrf_token": csrf_token(stops, path)}).status_code == 302
    leaves, path = pages["leaves@example.org"], manage["leaves@example.org"] + "/withdraw"
    assert leaves.post(path, data={"csrf_token": csrf_token(leaves, path)}).status_code == 302
    deliver_until(runner, smtp_server, lambda m: m["List-Unsubscribe-Post"])
    for _ in range(3):
        assert runner.invoke(args=["mail", "deliver"]).exit_code == 0
    received = [m["To"].addresses[0].addr_spec for m in smtp_server.messages if m["List-Unsubscribe-Post"]]
    assert received == ["stays@example.org"]
    with app.app_context():
        waiting = db.session.execute(select(OutgoingEmail).where(OutgoingEmail.update_id.is_not(None))).scalars()
        assert all(email.sent_at for email in waiting), "the others are dropped, not failed or waiting"


def test_publishing_says_how_many_the_news_is_emailed_to(client, app, organiser_client):
    """An organiser told the news is "on its way" to nobody would think it went out."""
    publish(organiser_client, title="First news")
    assert "No signer has asked for news yet, so no email was sent." in organiser_client.get(
        "/organisers/updates"
    ).get_data(as_text=True)
    signer(client, app, "ada@example.ac.uk")
    signer(client, app, "bo@example.edu.cn", updates=False)
    publish(organiser_client, title="Second news")
    page = organiser_client.get("/organisers/updates").get_data(as_text=True)
    assert "the email is on its way to the 1 signer who asked for news" in page
