"""The counts as a reader sees them: an invitation before the first signature, words that agree with
their numbers, the split bar and the goal."""

import re

import pytest

from tests.support import confirmed_signature

PAGES = ["/en/", "/en/signatories", "/en/thanks"]


def visible(html, marker):
    """The element carrying `marker`, unless it is hidden."""
    tag = re.search(rf"<[a-z]+[^>]*\b{marker}\b[^>]*>", html).group(0)
    return " hidden" not in tag


@pytest.mark.parametrize("path", PAGES)
def test_before_the_first_signature_the_page_invites_one_instead_of_showing_zeros(client, path):
    html = client.get(path).get_data(as_text=True)
    assert visible(html, "data-while-empty") and "Be the first to sign" in html
    assert not visible(html, "data-once-signed"), "no row of zeros"


@pytest.mark.parametrize("path", PAGES)
def test_one_signature_is_one_scholar_not_one_scholars(client, app, path):
    with app.app_context():
        confirmed_signature(email="one@example.org", group="chinese")
    html = client.get(path).get_data(as_text=True)
    assert not visible(html, "data-while-empty") and visible(html, "data-once-signed")
    assert re.search(r'data-other="Signatures">Signature</dt>\s*<dd data-count="total">1<', html)
    assert re.search(r'data-other="Chinese scholars">Chinese scholar</span></dt>\s*<dd data-count="chinese">1<', html)
    assert re.search(
        r'data-other="International scholars">International scholars</span></dt>\s*<dd data-count="international">0<',
        html,
    )


def test_the_split_bar_says_in_words_what_it_shows(client, app):
    with app.app_context():
        for i in range(3):
            confirmed_signature(email=f"i{i}@example.org", group="international")
        confirmed_signature(email="c@example.org", group="chinese")
    html = client.get("/en/").get_data(as_text=True)
    bar = re.search(r'<svg class="split-bar"[^>]*aria-label="([^"]+)"[^>]*>(.*?)</svg>', html, re.S)
    assert "International scholars: 3" in bar.group(1) and "Chinese scholars: 1" in bar.group(1)
    widths = dict(re.findall(r'data-group="(\w+)" x="[\d.]+" y="0" width="([\d.]+)"', bar.group(2)))
    assert widths == {"international": "75.0", "chinese": "25.0"}


def test_a_goal_is_shown_as_progress_and_no_goal_shows_nothing(app_factory):
    with_goal = app_factory(SIGNATURE_GOAL=1000, PAGE_CACHE_SECONDS=0)
    with with_goal.app_context():
        confirmed_signature(email="g@example.org", group="chinese")
    html = with_goal.test_client().get("/en/").get_data(as_text=True)
    assert re.search(r'<progress id="goal-progress" max="1000" value="1"', html)
    assert "1 of the goal of 1,000 signatures" in html
    assert "<progress" not in app_factory(PAGE_CACHE_SECONDS=0).test_client().get("/en/").get_data(as_text=True)
