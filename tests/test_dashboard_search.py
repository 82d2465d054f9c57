"""Every signature is reachable from the dashboard: words of a name or an affiliation, an exact
address for the roles that see addresses, filters, keyset pages newest first, and how many match.
Anything in the query string that cannot be read is left out with a sentence, never a 500."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from petition.extensions import db
from petition.signatures.models import Signature
from tests.support import csrf_token, log_in

PASSWORD = "correct horse battery"
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def add_signatures(app, n, **fields):
    """n confirmed signatures, one an hour from START, the oldest first (so #1 signed first)."""
    with app.app_context():
        rows = []
        for i in range(n):
            values = {
                "name": f"Scholar {i + 1:03d}",
                "affiliation": f"University {i % 7}",
                "email": f"scholar{i + 1:03d}@example.org",
                "group": "international" if i % 2 else "chinese",
                "status": "confirmed",
                "visible": True,
                "signed_at": START + timedelta(hours=i),
                "confirmed_at": START + timedelta(hours=i),
            }
            rows.append(Signature(**(values | (fields if i == 0 else {}))))
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


@pytest.fixture
def as_role(app, client, runner):
    def log_in_as(role):
        result = runner.invoke(
            args=["organisers", "create", f"{role}@example.org", "--role", role], input=f"{PASSWORD}\n{PASSWORD}\n"
        )
        assert result.exit_code == 0, result.output
        assert log_in(client, f"{role}@example.org", PASSWORD).status_code == 302
        return client

    return log_in_as


def listed_ids(html):
    """The signature numbers in the dashboard's table, in order."""
    table = html.split('<table class="data-table" id="signatures">', 1)[1].split("</table>", 1)[0]
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", table)]


def showing(html):
    return re.search(r'<p class="showing" role="status">(.*?)</p>', html).group(1)


def link(html, rel):
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_a_first_day_signature_is_found_by_a_word_of_its_name_among_many(app, organiser_client):
    ids = add_signatures(app, 120, name="Ada Lovelace", affiliation="University of London")
    html = organiser_client.get("/organisers/").get_data(as_text=True)
    assert ids[0] not in listed_ids(html), "the newest 50 do not reach the first day"
    for query in ("lovelace", "LOVE", "ada lov", "london", "lovelace london"):
        html = organiser_client.get("/organisers/", query_string={"q": query}).get_data(as_text=True)
        assert listed_ids(html) == [ids[0]], query
        assert showing(html) == "Showing 1 of 1"
    # Each word from its start: the index answers that at a million signatures; a substring would not.
    html = organiser_client.get("/organisers/?q=velace").get_data(as_text=True)
    assert listed_ids(html) == [] and showing(html) == "Showing 0 of 0"


def test_chinese_names_match_from_their_first_character(app, organiser_client):
    [wang] = add_signatures(app, 1, name="王小明", affiliation="中山大学社会学与人类学学院")
    for query in ("王", "王小明", "中山大学"):
        html = organiser_client.get("/organisers/", query_string={"q": query}).get_data(as_text=True)
        assert listed_ids(html) == [wang], query


def add_chinese_signers(app):
    """陈伟 of 中山大学 and 王伟 of 北京大学, among Latin names and another Chinese one."""
    ids = add_signatures(app, 6)
    with app.app_context():
        for id_, name, affiliation in [
            (ids[1], "陈伟", "中山大学"),
            (ids[3], "王伟", "北京大学"),
            (ids[4], "李明", "中国科学院"),
            (ids[5], "Ada Lovelace", "University of London"),
        ]:
            signature = db.session.get(Signature, id_)
            signature.name, signature.affiliation = name, affiliation
        db.session.commit()
    return {"chen": ids[1], "wang": ids[3], "li": ids[4], "ada": ids[5]}


def test_chinese_is_found_by_any_part_of_a_name_or_an_affiliation(app, organiser_client):
    """Chinese has no spaces: an organiser asked to remove 王伟 searches "伟", or "大学" for a university."""
    signers = add_chinese_signers(app)
    chen, wang = signers["chen"], signers["wang"]

    def found(query):
        return listed_ids(organiser_client.get("/organisers/", query_string={"q": query}).get_data(as_text=True))

    assert found("伟") == [wang, chen]
    assert found("大学") == [wang, chen]
    assert found("山大") == [chen]
    assert found("京大学") == [wang]
    assert found("陈伟") == [chen] and found("中山") == [chen]
    assert found("伟 北京") == [wang], "every word must match"
    assert found("伟 lovelace") == []
    # Both characters are in the index, never side by side in one name or affiliation.
    assert found("学大") == [] and found("伟中") == []
    # Latin words still from their start.
    assert found("lov") == [signers["ada"]] and found("velace") == []
    html = organiser_client.get("/organisers/").get_data(as_text=True)
    assert "Chinese characters match anywhere" in html


def test_the_chinese_index_follows_a_corrected_name_and_a_deleted_signature(app, organiser_client):
    signers = add_chinese_signers(app)
    with app.app_context():
        db.session.get(Signature, signers["chen"]).name = "陈明"
        db.session.delete(db.session.get(Signature, signers["wang"]))
        db.session.commit()
    for query, expected in (("伟", []), ("陈明", [signers["chen"]]), ("明", [signers["li"], signers["chen"]])):
        html = organiser_client.get("/organisers/", query_string={"q": query}).get_data(as_text=True)
        assert listed_ids(html) == expected, query


def test_the_dashboard_says_in_chinese_how_chinese_is_matched(app, organiser_client):
    organiser_client.get("/language/zh?next=/organisers/")
    html = organiser_client.get("/organisers/").get_data(as_text=True)
    assert "中文在任意位置均可匹配" in html and "从第一个字开始" not in html


def test_pages_go_back_in_time_by_keyset_and_keep_the_filters(app, organiser_client):
    ids = add_signatures(app, 130)
    statements = []

    def record(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    try:
        first = organiser_client.get("/organisers/?q=university").get_data(as_text=True)
        assert listed_ids(first) == ids[::-1][:50]
        assert showing(first) == "Showing 50 of 130"
        assert link(first, "prev") is None
        second = organiser_client.get(link(first, "next")).get_data(as_text=True)
        assert "q=university" in link(first, "next") and "before=" in link(first, "next")
        assert listed_ids(second) == ids[::-1][50:100]
        third = organiser_client.get(link(second, "next")).get_data(as_text=True)
        assert listed_ids(third) == ids[::-1][100:] and link(third, "next") is None
        back = organiser_client.get(link(third, "prev")).get_data(as_text=True)
        assert listed_ids(back) == ids[::-1][50:100]
        newest = organiser_client.get(link(back, "prev")).get_data(as_text=True)
        assert listed_ids(newest) == ids[::-1][:50] and link(newest, "prev") is None
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", record)
    # SQLAlchemy writes "LIMIT ? OFFSET ?" on SQLite with an offset of 0; any other offset is paging by OFFSET.
    offsets = [parameters[-1] for statement, parameters in statements if "OFFSET ?" in statement]
    assert not [s for s, _ in statements if "OFFSET %" in s] and set(offsets) <= {0}, "keyset pages, never OFFSET"


def test_filters_by_tab_group_listing_review_and_signing_day(app, organiser_client):
    ids = add_signatures(app, 30)
    with app.app_context():
        hidden = db.session.get(Signature, ids[3])
        hidden.hidden, hidden.visible = True, False
        waiting = db.session.get(Signature, ids[4])
        waiting.listing_review = "pending"
        db.session.commit()

    def listed(**args):
        return listed_ids(organiser_client.get("/organisers/", query_string=args).get_data(as_text=True))

    assert listed(review="hidden", q="scholar") == [ids[3]]
    assert listed(q="scholar 004") == [ids[3]]
    assert listed(listing="pending") == [ids[4]]
    assert set(listed(group="chinese")) == {i for n, i in enumerate(ids) if n % 2 == 0}
    # Signed on 1 November (UTC): the first 15 hours' signatures, from 09:00.
    assert listed(until="2026-11-01") == ids[:15][::-1]
    assert listed(**{"from": "2026-11-02"}) == ids[15:][::-1]
    assert listed(**{"from": "2026-11-01", "until": "2026-11-01"}, q="scholar 001") == [ids[0]]


def test_how_many_match_is_exact_up_to_a_bound(app, organiser_client, monkeypatch):
    from petition.organisers import search

    add_signatures(app, 60)
    html = organiser_client.get("/organisers/").get_data(as_text=True)
    assert showing(html) == "Showing 50 of 60"
    monkeypatch.setattr(search, "COUNT_BOUND", 55)
    html = organiser_client.get("/organisers/?q=scholar").get_data(as_text=True)
    assert showing(html) == "Showing 50 of more than 55"
    html = organiser_client.get("/organisers/?q=scholar&group=chinese").get_data(as_text=True)
    assert showing(html) == "Showing 30 of 30"


def test_a_moderator_finds_a_signature_by_its_exact_address_even_once_erased(app, as_role):
    ids = add_signatures(app, 60)
    client = as_role("moderator")
    for query in ("scholar002@example.org", "  Scholar002@EXAMPLE.org "):
        html = client.get("/organisers/", query_string={"q": query}).get_data(as_text=True)
        assert listed_ids(html) == [ids[1]], query
    assert listed_ids(client.get("/organisers/?q=scholar002@example.com").get_data(as_text=True)) == []
    with app.app_context():
        signature = db.session.get(Signature, ids[1])
        signature.email, signature.email_erased_at = None, datetime.now(UTC)
        db.session.commit()
    html = client.get("/organisers/?q=scholar002@example.org").get_data(as_text=True)
    assert listed_ids(html) == [ids[1]], "the keyed hash stays when the address is erased"


def test_a_viewers_search_never_matches_on_addresses(app, as_role):
    add_signatures(app, 3, name="Grace Hopper", email="zzqx.hopper@example.org")
    client = as_role("viewer")
    html = client.get("/organisers/?q=zzqx.hopper@example.org").get_data(as_text=True)
    assert "cannot search by them" in html
    assert showing(html) == "Showing 3 of 3", "the address is left out, not searched"
    assert "zzqx.hopper@example.org" not in html.split("<table", 1)[1]
    # A word that is only in an address finds nothing, for any role: names and affiliations only.
    assert listed_ids(client.get("/organisers/?q=zzqx").get_data(as_text=True)) == []


def test_a_viewers_chinese_search_never_matches_on_addresses(app, as_role):
    [wei] = add_signatures(app, 1, name="陈伟", affiliation="中山大学")
    [other] = add_signatures(app, 1, name="Grace Hopper", email="张伟@例子.中国")
    client = as_role("viewer")
    assert listed_ids(client.get("/organisers/?q=伟").get_data(as_text=True)) == [wei]
    assert listed_ids(client.get("/organisers/?q=张伟").get_data(as_text=True)) == []
    assert other not in listed_ids(client.get("/organisers/?q=例子").get_data(as_text=True))


BAD_QUERIES = [
    {"review": "nope"},
    {"group": "martian"},
    {"listing": "maybe"},
    {"from": "yesterday"},
    {"until": "2026-13-45"},
    {"from": "2026-12-02", "until": "2026-12-01"},
    {"before": "abc"},
    {"after": "-5"},
    {"before": "9" * 40},
    {"q": "@@@"},
    {"q": "%_\\"},
    {"q": '" OR * NEAR( ^ -'},
    {"q": "scholar' OR 1=1 --"},
    {"q": "x" * 5000},
    # The Chinese path: FTS syntax beside CJK, a very long run of characters (each pair a term), mixed.
    {"q": '"大学" OR 伟* NEAR(中山'},
    {"q": "伟" * 5000},
    {"q": "中" + "山大" * 300 + " lov*"},
    {"from": "\x00"},
]


@pytest.mark.parametrize("args", BAD_QUERIES, ids=lambda a: repr(a)[:40])
def test_a_query_string_that_cannot_be_read_is_left_out_with_a_message(app, organiser_client, args):
    add_signatures(app, 3)
    response = organiser_client.get("/organisers/", query_string=args)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="showing"' in html
    if not set(args) <= {"q"} or args["q"] in ("@@@",):
        assert '<div class="notice-box" role="status">' in html, args


def test_the_tab_counts_and_the_filters_agree(app, organiser_client):
    from petition.organisers.dashboard import REVIEW_FILTERS, review_counts

    ids = add_signatures(app, 12)
    with app.app_context():
        for n, (hidden, bot, status) in enumerate([(True, False, "confirmed"), (False, True, "pending")]):
            signature = db.session.get(Signature, ids[n])
            signature.hidden, signature.suspected_bot, signature.status, signature.visible = hidden, bot, status, False
        db.session.commit()
        counts = review_counts()
        for tab, conditions in REVIEW_FILTERS.items():
            listed = db.session.execute(select(Signature.id).where(*conditions)).scalars().all()
            assert counts[tab] == len(listed), tab
    assert counts["all"] == 12 and counts["hidden"] == 1 and counts["flagged"] == 1 and counts["counted"] == 10


def test_hiding_a_signature_found_by_search_returns_to_the_search(app, organiser_client):
    ids = add_signatures(app, 80, name="Ada Lovelace")
    path = f"/organisers/signatures/{ids[0]}"
    done = organiser_client.post(
        f"{path}/hide", data={"reason": "asked to be removed", "csrf_token": csrf_token(organiser_client, path)}
    )
    assert done.status_code == 302
    html = organiser_client.get("/organisers/?review=hidden&q=lovelace").get_data(as_text=True)
    assert listed_ids(html) == [ids[0]]
