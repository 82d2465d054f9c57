"""Signatures over time: running totals per group with no gaps, the chart, and its page."""

import re
from datetime import date

import pytest

from petition.signatories.growth import chart, growth, nice_top
from tests.support import confirmed_signature

pytestmark = pytest.mark.usefixtures("ctx")


def test_running_totals_fill_every_day_and_start_from_zero():
    rows = [("2026-11-02", "international", 2), ("2026-11-02", "chinese", 1), ("2026-11-05", "chinese", 3)]
    data = growth(rows, today=date(2026, 11, 6))
    assert data.days[0] == date(2026, 11, 1) and data.days[-1] == date(2026, 11, 6)
    assert len(data.days) == 6, "no day is missing"
    assert data.totals["international"] == [0, 2, 2, 2, 2, 2]
    assert data.totals["chinese"] == [0, 1, 1, 1, 4, 4]


def test_the_table_lists_only_the_days_something_changed():
    data = growth([("2026-11-02", "chinese", 1), ("2026-11-05", "chinese", 3)], today=date(2026, 11, 9))
    assert [(day, total) for day, _, total in data.rows()] == [(date(2026, 11, 2), 1), (date(2026, 11, 5), 4)]


def test_the_chart_draws_one_line_per_group_inside_its_frame():
    data = growth([("2026-11-02", "international", 7), ("2026-11-03", "chinese", 2)], today=date(2026, 11, 3))
    drawn = chart(data)
    assert [group for group, _ in drawn.lines] == ["international", "chinese"]
    for _, points in drawn.lines:
        for point in points.split():
            x, y = map(float, point.split(","))
            assert drawn.left <= x <= drawn.width and 0 <= y <= drawn.bottom
    assert drawn.y_ticks[-1][1] >= 7, "the axis reaches the highest total"


@pytest.mark.parametrize(("n", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (51, 100), (1001, 2000)])
def test_the_axis_ends_on_a_round_number(n, top):
    assert nice_top(n) == top


def test_only_signatures_that_count_are_drawn():
    from petition.extensions import db
    from petition.signatures.signing import sign

    confirmed_signature(email="a@example.org", group="chinese")
    sign(name="Pending", affiliation="U", email="p@example.org", group="chinese")
    db.session.commit()
    data = growth()
    assert data.totals["chinese"][-1] == 1 and data.totals["international"][-1] == 0


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_growth_page_shows_the_chart_and_the_same_figures_as_a_table(app_factory, language):
    site = app_factory(GROWTH_CACHE_SECONDS=0)
    with site.app_context():
        confirmed_signature(email="a@example.org", group="chinese")
        confirmed_signature(email="b@example.org", group="international")
    html = site.test_client().get(f"/{language}/signatories/growth").get_data(as_text=True)
    assert re.search(r'<svg class="growth-chart"[^>]*role="img"[^>]*aria-labelledby="growth-caption"', html)
    assert html.count("<polyline") == 2
    cells = re.findall(r'<td class="number">(\d+)</td>', html)
    assert cells[-3:] == ["1", "1", "2"] or cells[:3] == ["1", "1", "2"], "today's row: each group and the total"
    assert " style=" not in html


def test_before_anyone_signs_the_growth_page_invites_the_first_signature(app_factory):
    html = app_factory(GROWTH_CACHE_SECONDS=0).test_client().get("/en/signatories/growth").get_data(as_text=True)
    assert "<polyline" not in html and "Be the first to sign" in html


def test_a_signature_confirmed_late_in_the_evening_counts_on_that_day_in_utc(app):
    from datetime import UTC, datetime

    from sqlalchemy import text

    from petition.extensions import db
    from petition.signatories.growth import daily_counts
    from petition.signatures import lifecycle
    from petition.signatures.signing import sign
    from tests.support import is_postgresql

    signature = sign(name="Late", affiliation="U", email="late@example.org", group="chinese").signature
    lifecycle.confirm(signature, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    db.session.commit()
    if is_postgresql(app):
        db.session.execute(text("SET TIME ZONE 'Asia/Shanghai'"))  # already 2 March there
    [(day, group, n)] = daily_counts()
    assert str(day) == "2026-03-01" and (group, n) == ("chinese", 1)
    db.session.rollback()
