"""The public pages, through HTTP as a browser uses them."""

import html as html_module
import re
from pathlib import Path

import pytest

from petition.privacy.addresses import email_hash
from petition.signatories.counts import current_counts
from tests.support import csrf_token, link_in_latest_email, press_confirm, sign_and_confirm, sign_as, signature_form


def page_text(response):
    return response.get_data(as_text=True)


def input_tag(html, input_id):
    return re.search(rf'<input[^>]*\bid="{input_id}"[^>]*>', html).group(0)


def field_block(html, field_name):
    """The marked-up field (label, hint, errors, input) that holds the input called field_name."""
    for match in re.finditer(r'<(div|fieldset) class="field has-error"[^>]*>(.*?)</\1>', html, re.DOTALL):
        if f'name="{field_name}"' in match.group(2):
            return match.group(2)
    raise AssertionError(f"no field marked as wrong holds {field_name}")


def words(text):
    """Text as a reader sees it, word by word: no tags, entities or quote styles in the way."""
    return " ".join(re.findall(r"\w+", html_module.unescape(re.sub(r"<[^>]+>", " ", text))))


def headings_of(app, name, language="en"):
    """The headings an organiser wrote in a content file, whatever they say."""
    text = (Path(app.config["CONTENT_DIR"]) / f"{name}.{language}.md").read_text(encoding="utf-8")
    return [words(heading) for heading in re.findall(r"^#+\s+(.+)$", text, re.M)]


def test_home_page_shows_the_letter_as_written_and_the_counts(client, app):
    html = page_text(client.get("/"))
    headings = headings_of(app, "letter")
    assert headings and all(heading in words(html) for heading in headings)
    assert html.count("<li>") >= 1, "the letter's list of demands is shown as a list"
    assert 'data-count="international"' in html and 'data-count="chinese"' in html and 'data-count="total"' in html
    assert 'href="/sign"' in html


@pytest.mark.parametrize("language", ["en", "zh"])
def test_background_page_shows_the_article_as_written(client, app, language):
    html = page_text(client.get(f"/{language}/background"))
    headings = headings_of(app, "background", language)
    assert headings and all(heading in words(html) for heading in headings)


def test_signing_asks_to_check_email_and_counts_only_after_confirming(client, app):
    response = sign_as(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign/check-your-email")
    assert "Check your email" in page_text(client.get("/sign/check-your-email"))
    with app.app_context():
        assert current_counts().of("international") == 0
    press_confirm(client, link_in_latest_email(app, "ada@example.ac.uk"))
    with app.app_context():
        assert current_counts().of("international") == 1


def test_the_form_is_offered_with_listing_unticked_and_no_group_chosen(client):
    """Being named is the signer's choice, made by ticking the box (see test_public_forms)."""
    html = page_text(client.get("/sign"))
    assert " checked" not in input_tag(html, "listed")
    assert " checked" not in input_tag(html, "group-0") and " checked" not in input_tag(html, "group-1")


def test_same_address_signing_twice_adds_nothing_and_shows_no_error(client, app):
    sign_and_confirm(client)
    second = sign_as(client, email="  ADA@Example.ac.uk ", name="Impostor", follow_redirects=True)
    assert second.status_code == 200
    assert "Check your email" in page_text(second)
    with app.app_context():
        assert current_counts().total == 1
    assert "Impostor" not in page_text(client.get("/signatories"))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Enter your name."),
        ("name", "   ", "Enter your name."),
        ("name", "x" * 201, "Use at most 200 characters; this has 201."),
        ("name", "Ada\x07Lovelace", "Remove the invisible control characters"),
        ("affiliation", "", "Enter your affiliation."),
        ("affiliation", "y" * 301, "Use at most 300 characters; this has 301."),
        ("affiliation", "Uni\u202eversity", "Remove the invisible control characters"),
        # Names that would be listed blank: zero-width, word-joiner, byte-order-mark and Hangul filler.
        ("name", "\u200b\u200b", "Write at least one letter or number that can be seen."),
        ("name", "\u2060 \ufeff", "Write at least one letter or number that can be seen."),
        ("name", "\u3164\u3164\u3164", "Write at least one letter or number that can be seen."),
        ("affiliation", "\u3164 \u200b", "Write at least one letter or number that can be seen."),
        ("email", "=?utf-8?q?x=0D=0ABcc:_all?=@example.org", "Enter a valid email address"),
        ("email", "=?us-ascii?q?carol?=@example.org", "Enter a valid email address"),
        ("email", "", "Enter your email address."),
        ("email", "not-an-address", "Enter a valid email address"),
        ("email", "ada@", "Enter a valid email address"),
        ("email", "a" * 250 + "@example.org", "Use at most 254 characters; this has 262."),
        ("group", None, "Choose the group you sign as."),
        ("group", "martian", "Choose the group you sign as."),
    ],
)
def test_each_bad_field_gets_its_own_message_beside_it_and_nothing_is_signed(client, app, field, value, message):
    response = sign_as(client, **{field: value})
    assert response.status_code == 422
    html = page_text(response)
    assert message in field_block(html, field)
    assert "Nothing has been signed yet" in html
    with app.app_context():
        assert current_counts().total == 0


def test_what_was_typed_is_kept_when_the_form_is_shown_again(client):
    response = sign_as(client, email="not-an-address", name="王小明", affiliation="中山大学")
    html = page_text(response)
    assert 'value="王小明"' in html and 'value="中山大学"' in html and 'value="not-an-address"' in html
    assert " checked" in input_tag(html, "group-0")


def test_an_expired_form_keeps_everything_typed_and_signs_nothing(client, app):
    form = signature_form(name="Grace Hopper", affiliation="Yale")
    form["csrf_token"] = "expired-or-forged"
    response = client.post("/sign", data=form)
    assert response.status_code == 422
    html = page_text(response)
    assert "open for too long" in html and 'value="Grace Hopper"' in html and 'value="Yale"' in html
    with app.app_context():
        assert current_counts().total == 0


def test_an_unlisted_signer_is_counted_but_never_named(client, app):
    sign_and_confirm(
        client,
        name="Quiet Scholar",
        affiliation="Hidden Institute",
        email="q@example.edu",
        group="chinese",
        listed=None,
    )
    with app.app_context():
        assert current_counts().of("chinese") == 1
    for path in (
        "/",
        "/signatories",
        "/signatories?q=Quiet",
        "/api/signatories",
        "/api/signatories?q=Quiet",
        "/api/counts",
    ):
        html = page_text(client.get(path))
        assert "Quiet Scholar" not in html and "Hidden Institute" not in html
    assert "at their own request: Chinese scholars: 1." in page_text(client.get("/signatories"))


def test_a_name_written_as_markup_is_shown_as_text(client):
    sign_and_confirm(client, name="<script>alert(1)</script>", affiliation="<b>Bold U</b>")
    html = page_text(client.get("/signatories"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and "<b>Bold U</b>" not in html


def test_email_addresses_never_appear_on_public_pages(client, app):
    """To any reader; the signer alone sees their own address once, on the page after signing."""
    sign_and_confirm(client, email="secret.person@example.edu")
    sign_and_confirm(client, email="another.secret@example.edu", listed=None)
    reader = app.test_client()
    for path in (
        "/",
        "/background",
        "/sign",
        "/sign/check-your-email",
        "/signatories",
        "/privacy",
        "/api/signatories",
        "/api/counts",
        "/no-such-page",
    ):
        assert "example.edu" not in page_text(reader.get(path)), path


@pytest.mark.parametrize("path", ["/nothing-here", "/signatories/extra", "/api/nothing"])
def test_unknown_addresses_get_a_clear_not_found_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "There is no page at this address." in page_text(response)


def test_a_form_too_large_to_be_real_gets_a_clear_refusal(client):
    response = client.post("/sign", data={"name": "x" * 100_000, "csrf_token": csrf_token(client, "/sign")})
    assert response.status_code == 413
    assert "too large" in page_text(response)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"name=%ff%fe&affiliation=%00&email=@&group[]=x", "application/x-www-form-urlencoded"),
        (b'{"name": "Ada"}', "application/json"),
        (b"\x00\x01\x02\xff" * 50, "multipart/form-data; boundary=nothing"),
        (b"", "text/plain"),
    ],
)
def test_whatever_a_visitor_sends_to_the_form_never_gives_a_server_error(client, body, content_type):
    response = client.post("/sign", data=body, content_type=content_type)
    assert response.status_code in (400, 422)
    assert "Traceback" not in response.get_data(as_text=True)


def test_repeated_fields_use_the_first_value_and_still_sign_once(client, app):
    token = csrf_token(client, "/sign")
    data = [
        ("name", "Ada"),
        ("name", "Other"),
        ("affiliation", "UCL"),
        ("email", "ada@example.org"),
        ("group", "chinese"),
        ("group", "international"),
        ("csrf_token", token),
    ]
    from werkzeug.datastructures import MultiDict

    assert client.post("/sign", data=MultiDict(data)).status_code == 302
    press_confirm(client, link_in_latest_email(app, "ada@example.org"))
    with app.app_context():
        assert current_counts().of("chinese") == 1 and current_counts().total == 1


def test_a_server_error_rolls_back_what_the_request_had_written(app_factory):
    # The 500 page must not leave a half-done transaction for the next request on that connection.
    from petition.extensions import db
    from petition.signatures.models import Signature

    site = app_factory(PROPAGATE_EXCEPTIONS=False)

    @site.get("/test-half-done")
    def half_done():
        db.session.add(Signature(name="Half", affiliation="Done", email="half@example.org", group="chinese"))
        db.session.flush()
        raise RuntimeError("something broke after a write")

    client = site.test_client()
    response = client.get("/test-half-done")
    assert response.status_code == 500 and "Something went wrong on our side" in response.get_data(as_text=True)
    assert "something broke" not in response.get_data(as_text=True)
    with site.app_context():
        assert (
            db.session.execute(
                db.select(Signature).where(Signature.email_hash == email_hash("half@example.org"))
            ).first()
            is None
        )
