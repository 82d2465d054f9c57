"""The public list: filters, search and keyset pagination, called without HTTP and through the page."""

import re

import pytest

from petition.signatories.public_list import ListFilter, parse_cursor, public_page
from petition.signatures.signing import sign
from tests.support import confirmed_signature, settings


def add(name, group="international", affiliation="Uni", listed=True):
    confirmed_signature(
        name=name,
        affiliation=affiliation,
        email=f"{abs(hash((name, affiliation)))}@example.org",
        group=group,
        listed=listed,
    )


def names(page):
    return [s.name for s in page.signatories]


@pytest.mark.usefixtures("ctx")
class TestPublicPage:
    def test_only_confirmed_listed_signatories_in_signing_order(self):
        add("First")
        add("Unlisted", listed=False)
        add("Second", group="chinese")
        sign(name="Unconfirmed", affiliation="Uni", email="u@example.org", group="chinese")
        assert names(public_page(ListFilter())) == ["First", "Second"]

    def test_filter_by_group(self):
        add("Intl")
        add("Chn", group="chinese")
        assert names(public_page(ListFilter.from_args("chinese", ""))) == ["Chn"]
        assert names(public_page(ListFilter.from_args("international", ""))) == ["Intl"]

    def test_unknown_group_means_everyone(self):
        add("Intl")
        add("Chn", group="chinese")
        assert names(public_page(ListFilter.from_args("martian", ""))) == ["Intl", "Chn"]

    def test_search_matches_name_or_affiliation_ignoring_case(self):
        add("Ada Lovelace", affiliation="University of London")
        add("王小明", affiliation="中山大学", group="chinese")
        add("Grace Hopper", affiliation="Yale")
        assert names(public_page(ListFilter.from_args(None, "LOVELACE"))) == ["Ada Lovelace"]
        assert names(public_page(ListFilter.from_args(None, "london"))) == ["Ada Lovelace"]
        assert names(public_page(ListFilter.from_args(None, "中山"))) == ["王小明"]

    def test_search_wildcards_are_taken_literally(self):
        add("Ada")
        add("100% Scholar")
        assert names(public_page(ListFilter.from_args(None, "%"))) == ["100% Scholar"]
        assert names(public_page(ListFilter.from_args(None, "_"))) == []

    def test_pages_follow_each_other_without_gaps_or_repeats(self):
        for i in range(7):
            add(f"Person {i}")
        seen, cursor, pages = [], None, 0
        while True:
            page = public_page(ListFilter(), after=parse_cursor(cursor), limit=3)
            seen += names(page)
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [f"Person {i}" for i in range(7)]
        assert pages == 3

    def test_a_full_last_page_has_no_next_cursor(self):
        for i in range(3):
            add(f"Person {i}")
        assert public_page(ListFilter(), limit=3).next_cursor is None


@pytest.mark.parametrize("value", [None, "", "abc", "-5", "0", "1e9", "99999999999999999999999"])
def test_a_bad_cursor_starts_from_the_top(value):
    assert parse_cursor(value) is None


def test_the_list_page_walks_a_hundred_at_a_time(client, app):
    with app.app_context():
        for i in range(101):
            add(f"Scholar {i:03d}")
    first = client.get("/signatories").get_data(as_text=True)
    assert "Scholar 000" in first and "Scholar 099" in first and "Scholar 100" not in first
    assert 'rel="next"' in first
    next_href = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_href).get_data(as_text=True)
    assert "Scholar 100" in second and "Scholar 099" not in second
    assert 'rel="next"' not in second and "First page" in second


def test_the_list_page_keeps_filters_across_pages_and_explains_empty_results(client, app):
    with app.app_context():
        add("Chn Scholar", group="chinese")
    html = client.get("/signatories?group=chinese&q=nobody").get_data(as_text=True)
    assert "No listed signatory matches this search." in html
    assert 'value="nobody"' in html
    assert '<option value="chinese" selected>' in html


@pytest.mark.parametrize(
    "query", ["?cursor=nonsense", "?group=%00", "?q=" + "x" * 5000, "?q=%ff%fe", "?cursor=-1&group=zz"]
)
def test_odd_list_addresses_still_show_the_list(client, query):
    assert client.get("/signatories" + query).status_code == 200
    assert client.get("/api/signatories" + query).status_code == 200


# --- Less exposure: what a harvester or a search engine gets from the list ----------------------


def test_the_list_page_gives_the_day_someone_signed_never_the_time(client, app):
    with app.app_context():
        confirmed_signature(name="Day Only", affiliation="U", email="day@example.org", group="international")
    html = client.get("/signatories").get_data(as_text=True)
    [stamp] = re.findall(r'<time class="nowrap" datetime="([^"]+)"', html)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", stamp)


@pytest.mark.parametrize("path", ["/signatories", "/zh/signatories", "/api/signatories"])
def test_the_list_and_its_api_are_limited_per_client_with_a_clear_answer(client, app, path):
    with settings(app, LIST_LIMIT_PER_IP="3 per minute"):
        statuses = [client.get(path, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for _ in range(4)]
        other_reader = client.get(path, environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert statuses == [200, 200, 200, 429]
    assert other_reader.status_code == 200  # one harvester does not shut out everyone else


def test_the_list_pages_and_the_api_share_one_budget_per_client(client, app):
    """A harvester gets LIST_LIMIT_PER_IP names in all, however it spreads its requests over the
    page's addresses and the API."""
    paths = ["/en/signatories", "/api/signatories", "/signatories", "/api/signatories?group=chinese"]
    with settings(app, LIST_LIMIT_PER_IP="3 per minute"):
        statuses = [client.get(path, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for path in paths]
        refused_too = [client.get(path, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for path in paths]
    assert statuses == [200, 200, 200, 429]
    assert refused_too == [429, 429, 429, 429]


def test_a_refused_list_page_says_why_in_the_readers_language(client, app):
    with settings(app, LIST_LIMIT_PER_IP="1 per minute"):
        client.get("/zh/signatories")
        refused = client.get("/zh/signatories")
    assert refused.status_code == 429
    assert "请稍等一分钟后再试" in refused.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/signatories", "/zh/signatories", "/api/signatories"])
def test_search_engines_are_asked_not_to_index_the_list_unless_the_organisers_allow_it(client, app, path):
    assert client.get(path).headers.get("X-Robots-Tag") == "noindex"
    with settings(app, LIST_INDEXABLE=True):
        assert "X-Robots-Tag" not in client.get(path).headers


def robots_allow(client, path):
    from urllib.robotparser import RobotFileParser

    parser = RobotFileParser()
    parser.parse(client.get("/robots.txt").get_data(as_text=True).splitlines())
    return parser.can_fetch("AnyBot", path)


def test_robots_disallows_every_address_that_serves_the_list_including_the_menus(client, app):
    menu_links = set(re.findall(r'href="([^"]*signatories[^"]*)"', client.get("/").get_data(as_text=True)))
    assert "/signatories" in menu_links
    paths = {*menu_links, "/signatories", "/en/signatories", "/zh/signatories", "/api/signatories"}
    paths |= {f"{path}?group=chinese" for path in paths}
    assert [path for path in sorted(paths) if robots_allow(client, path)] == []
    with settings(app, LIST_INDEXABLE=True):
        assert [path for path in sorted(paths) if not robots_allow(client, path)] == []


def test_robots_and_the_sitemap_agree_with_the_lists_setting(client, app):
    rules = client.get("/robots.txt").get_data(as_text=True).splitlines()
    assert {"Disallow: /en/signatories", "Disallow: /zh/signatories", "Disallow: /api/signatories"} <= set(rules)
    assert "/signatories" not in client.get("/sitemap.xml").get_data(as_text=True)
    with settings(app, LIST_INDEXABLE=True):
        rules = client.get("/robots.txt").get_data(as_text=True).splitlines()
        assert not [rule for rule in rules if "signatories" in rule]
        assert "/en/signatories" in client.get("/sitemap.xml").get_data(as_text=True)
