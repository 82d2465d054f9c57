"""A signing form sent right is read without building the WTForms form (data_when_valid): it accepts
exactly the submissions the form accepts, and reads the same data from them."""

import pytest
from flask import request, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from wtforms import SelectField

from petition.signatures.forms import SignatureForm, data_when_valid
from petition.signatures.models import AFFILIATION_MAX, EMAIL_MAX, NAME_MAX
from tests.support import ADA

RIGHT = {**ADA, "listed": "y", "started": "a-start-token", "csrf_token": "<token>"}

# Each submission, and whether the form accepts it (so the comparison is never between two refusals).
SUBMISSIONS = {
    "right": ({}, True),
    "not listed": ({"listed": None}, True),
    "listed sent as false": ({"listed": "false"}, True),
    "wants news": ({"updates": "y"}, True),
    "spaces around the name": ({"name": "  Ada   Lovelace "}, True),
    "address in capitals with spaces": ({"email": "  Ada@Example.AC.UK "}, True),
    "honeypot filled": ({"website": "http://spam.example"}, True),
    "two names sent": ({"name": ["Ada", "Someone Else"]}, True),
    "two groups sent": ({"group": ["chinese", "international"]}, True),
    "name of the longest length": ({"name": "A" * NAME_MAX}, True),
    "no name": ({"name": None}, False),
    "blank name": ({"name": "   "}, False),
    "name too long": ({"name": "A" * (NAME_MAX + 1)}, False),
    "control character in the name": ({"name": "Ada\x07Lovelace"}, False),
    "invisible name": ({"name": "\u200b\u200b"}, False),
    "no affiliation": ({"affiliation": None}, False),
    "affiliation too long": ({"affiliation": "U" * (AFFILIATION_MAX + 1)}, False),
    "no address": ({"email": None}, False),
    "not an address": ({"email": "not an address"}, False),
    "address too long": ({"email": "a" * EMAIL_MAX + "@example.org"}, False),
    "throwaway address": ({"email": "someone@mailinator.com"}, False),
    "encoded-word address": ({"email": "=?utf-8?q?ada?=@example.org"}, False),
    "no group": ({"group": None}, False),
    "unknown group": ({"group": "martians"}, False),
    "no CSRF token": ({"csrf_token": None}, False),
    "wrong CSRF token": ({"csrf_token": "forged"}, False),
}


def submitted(changes, token):
    fields = {**RIGHT, **changes}
    fields["csrf_token"] = token if fields["csrf_token"] == "<token>" else fields["csrf_token"]
    data = MultiDict()
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                data.add(name, one)
    return data


@pytest.mark.parametrize(("changes", "right"), SUBMISSIONS.values(), ids=SUBMISSIONS.keys())
def test_a_submission_is_read_quickly_exactly_when_the_form_accepts_it(app, changes, right):
    with app.test_request_context("/en/sign"):
        token, signer_session = generate_csrf(), dict(session)
    with app.test_request_context("/en/sign", method="POST", data=submitted(changes, token)):
        session.update(signer_session)
        quick = data_when_valid(SignatureForm, request.form)
        form = SignatureForm()
        accepted = form.validate_on_submit()
        assert accepted == right, form.errors
        assert (quick is not None) == accepted
        if accepted:
            assert quick == {name: value for name, value in form.data.items() if name != "csrf_token"}


def test_a_form_with_a_field_it_cannot_check_is_refused_outright(app):
    class WithChoices(FlaskForm):
        colour = SelectField(choices=["red", "blue"])  # checks the choice: data_when_valid does not

    with app.test_request_context("/en/sign", method="POST"):
        sent = MultiDict({"colour": "red", "csrf_token": generate_csrf()})
        with pytest.raises(TypeError, match="colour"):
            data_when_valid(WithChoices, sent)


def test_the_error_summary_lists_mistakes_in_the_order_the_form_shows_its_fields(client):
    import re

    from tests.support import csrf_token

    page = client.post("/en/sign", data={"csrf_token": csrf_token(client, "/en/sign"), "name": "", "email": ""})
    summary = page.get_data(as_text=True).split('class="error-summary-list"', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'href="#([a-z_]+)', summary)
    assert links == ["name", "affiliation", "email", "group"]


def test_chinese_pages_join_a_label_and_its_message_with_chinese_punctuation(client, app):
    from tests.support import confirmed_signature, csrf_token

    with app.app_context():
        confirmed_signature()

    page = client.post("/zh/sign", data={"csrf_token": csrf_token(client, "/zh/sign")}).get_data(as_text=True)
    summary = page.split('class="error-summary-list"', 1)[1].split("</ul>", 1)[0]
    assert "姓名：" in summary and "姓名:" not in summary
    growth = client.get("/zh/signatories/growth").get_data(as_text=True)
    assert "国际学者：" in growth and "国际学者:" not in growth


@pytest.mark.parametrize(
    "language, words",
    [
        ("en", ["Chinese scholars</strong> are citizens", "copy delivered to the authorities"]),
        ("zh", ["<strong>中国学者</strong>指", "递交给当局的公开信文本"]),
    ],
)
def test_the_form_says_who_counts_as_which_group_and_what_being_named_means(client, language, words):
    """Beside the choices, in the reader's language; the box to be named starts unticked."""
    import re

    page = client.get(f"/{language}/sign").get_data(as_text=True)
    for text in words:
        assert text in page
    assert 'aria-describedby="group-hint"' in page
    box = re.search(r'<input[^>]*name="listed"[^>]*>', page).group(0)
    assert "checked" not in box
