"""Groups of signatories are data: a third group, added with one command, works everywhere."""

import csv
import io

from petition.extensions import db
from petition.signatories.counts import current_counts
from petition.signatories.groups import all_groups
from tests.support import csrf_token, sign_and_confirm


def add_group(runner, key="hongkong", label_en="Hong Kong scholar"):
    """`flask groups add` as an organiser types it."""
    return runner.invoke(
        args=[
            *("groups", "add", key, "--label-en", label_en, "--label-zh", "香港学者"),
            *("--plural-en", "Hong Kong scholars", "--plural-zh", "香港学者"),
        ]
    )


def add_hong_kong(runner):
    result = add_group(runner)
    assert result.exit_code == 0, result.output


def test_the_first_two_groups_come_from_the_database_in_order(app):
    with app.app_context():
        assert [(g.key, g.label("en"), g.plural("zh")) for g in all_groups()] == [
            ("international", "International scholar", "国际学者"),
            ("chinese", "Chinese scholar", "中国学者"),
        ]


def test_a_third_group_works_for_signing_counts_list_api_export_and_dashboard(app, runner, organiser_client):
    add_hong_kong(runner)
    form = organiser_client.get("/en/sign").get_data(as_text=True)
    assert 'value="hongkong"' in form and "Hong Kong scholar" in form
    assert "香港学者" in organiser_client.get("/zh/sign").get_data(as_text=True)

    sign_and_confirm(organiser_client, name="Chan Tai Man", email="chan@hku.example.hk", group="hongkong")
    sign_and_confirm(organiser_client, name="Unnamed HK", email="quiet@hku.example.hk", group="hongkong", listed=None)
    sign_and_confirm(organiser_client, name="Ada", email="ada@example.ac.uk", group="international")
    with app.app_context():
        counts = current_counts()
    assert (counts.of("hongkong"), counts.unlisted_of("hongkong"), counts.of("international"), counts.total) == (
        2,
        1,
        1,
        3,
    )

    api = organiser_client.get("/api/counts").get_json()
    assert (api["hongkong"], api["international"], api["chinese"], api["total"]) == (2, 1, 0, 3)
    assert api["unlisted"]["hongkong"] == 1

    home = organiser_client.get("/en/").get_data(as_text=True)
    assert 'data-count="hongkong">2<' in home and "Hong Kong scholars" in home

    listed = organiser_client.get("/signatories?group=hongkong").get_data(as_text=True)
    assert "Chan Tai Man" in listed and "Ada" not in listed and "Unnamed HK" not in listed
    assert "Hong Kong scholars: 1." in listed, "the unlisted one is counted, not named"
    people = organiser_client.get("/api/signatories?group=hongkong").get_json()
    assert [p["name"] for p in people["signatories"]] == ["Chan Tai Man"]

    rows = list(
        csv.DictReader(
            io.StringIO(organiser_client.get("/organisers/export.csv").get_data(as_text=True).lstrip("\ufeff"))
        )
    )
    assert sorted(row["group"] for row in rows) == ["hongkong", "hongkong", "international"]

    dashboard = organiser_client.get("/organisers/").get_data(as_text=True)
    assert "Hong Kong scholar" in dashboard and "Hong Kong scholars: 1" in dashboard


def test_a_group_that_does_not_exist_is_refused_by_the_form_and_the_database(app, client):
    from sqlalchemy.exc import IntegrityError

    from petition.extensions import db
    from petition.signatures.models import Signature

    token = csrf_token(client, "/sign")
    response = client.post(
        "/sign",
        data={"name": "X", "affiliation": "Y", "email": "x@example.org", "group": "martian", "csrf_token": token},
    )
    assert response.status_code == 422 and "Choose the group you sign as." in response.get_data(as_text=True)
    with app.app_context():
        db.session.add(Signature(name="X", affiliation="Y", email="x@example.org", group="martian"))
        try:
            db.session.commit()
            raise AssertionError("the database took an unknown group")
        except IntegrityError:
            db.session.rollback()


def test_adding_a_group_twice_is_a_clear_error(runner):
    add_hong_kong(runner)
    again = runner.invoke(
        args=["groups", "add", "hongkong", "--label-en", "a", "--label-zh", "b", "--plural-en", "c", "--plural-zh", "d"]
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_a_bad_group_key_or_label_is_a_clear_error_and_adds_nothing(app, runner):
    for key, label in [
        ("x" * 21, "ok"),
        ("Hong Kong", "ok"),
        ("", "ok"),
        ("<script>", "ok"),
        ("hk", ""),
        ("hk", "y" * 101),
    ]:
        result = add_group(runner, key, label)
        assert result.exit_code == 1 and "Error:" in result.output and result.exception.__class__ is SystemExit, key
    with app.app_context():
        assert [g.key for g in all_groups()] == ["international", "chinese"]


def test_each_process_keeps_the_groups_a_few_seconds_and_forgets_them_when_it_adds_one(app, ctx):
    from petition.signatories import groups
    from tests.support import settings

    with settings(app, GROUPS_CACHE_SECONDS=60):
        before = groups.all_groups()
        db.session.execute(db.text("UPDATE signatory_groups SET label_en = 'Renamed' WHERE key = 'chinese'"))
        assert groups.all_groups() == before, "kept, not read again"
        groups.add_group(
            "hk",
            labels={"en": "Hong Kong scholar", "zh": "香港学者"},
            plurals={"en": "Hong Kong scholars", "zh": "香港学者"},
        )
        after = groups.all_groups()
        assert "hk" in [group.key for group in after] and "Renamed" in [group.label("en") for group in after]
        db.session.rollback()
        groups.forget_groups()
