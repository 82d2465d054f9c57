"""How the letter grew: signatures that count, per group, day by day (UTC), for a chart the server
draws as SVG and a table that says the same in words.

Counting every signature by day is a scan of the table, so the result is kept for GROWTH_CACHE_SECONDS
(five minutes): the chart may be that much behind the live counts, which the page says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import SQLColumnExpression, func, select

from petition.extensions import db
from petition.signatories.groups import group_keys
from petition.signatures.models import Signature

WIDTH, HEIGHT = 480, 260  # the chart's own units; it scales to the page (at most 40rem wide)
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 34  # room for the axis labels


@dataclass(frozen=True)
class Growth:
    days: list[date]
    totals: dict[str, list[int]]  # group -> running total on each day

    @property
    def is_empty(self) -> bool:
        return not self.days

    def rows(self) -> list[tuple[date, dict[str, int], int]]:
        """For the table: each day on which signatures were added, with each group's running total
        and all of them together (days without news would only repeat the line above)."""
        rows, before = [], -1
        for i, day in enumerate(self.days):
            total = sum(series[i] for series in self.totals.values())
            if total != before and total:
                rows.append((day, {group: series[i] for group, series in self.totals.items()}, total))
            before = total
        return rows


def daily_counts() -> list[tuple[Any, str, int]]:
    """(day, group, signatures confirmed that day) for the signatures that count."""
    confirmed: SQLColumnExpression[Any] = Signature.confirmed_at
    if db.engine.dialect.name == "postgresql":  # the day in UTC, whatever the session's time zone
        confirmed = func.timezone("UTC", confirmed)
    day = func.date(confirmed)
    return [
        tuple(row)
        for row in db.session.execute(
            select(day, Signature.group, func.count()).where(Signature.counted).group_by(day, Signature.group)
        )
    ]


def growth(rows: list[tuple[Any, str, int]] | None = None, today: date | None = None) -> Growth:
    """Running totals per group for every day from the day before the first confirmation (all zero,
    so even one day draws a line) to today, with no gaps."""
    rows = daily_counts() if rows is None else rows
    added: dict[date, dict[str, int]] = {}
    for day, group, n in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        added.setdefault(day, {})[group] = n
    if not added:
        return Growth([], {group: [] for group in group_keys()})
    first, last = min(added) - timedelta(days=1), max(max(added), today or max(added))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    totals: dict[str, list[int]] = {}
    for group in group_keys():
        running, series = 0, []
        for day in days:
            running += added.get(day, {}).get(group, 0)
            series.append(running)
        totals[group] = series
    return Growth(days, totals)


@dataclass(frozen=True)
class Chart:
    """Lines in the chart's own units, with the ticks of its axes."""

    lines: list[tuple[str, str]]  # (group, SVG points)
    y_ticks: list[tuple[float, int]]  # (y, value)
    x_ticks: list[tuple[float, date]]  # (x, day)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM


def nice_top(n: int) -> int:
    """The top of the y axis: the first of 1, 2, 5, 10, 20, 50, 100, ... at or above n."""
    top, steps = 1, (2, 5 / 2, 2)  # 1 -> 2 -> 5 -> 10 -> 20 -> 50 ...
    i = 0
    while top < n:
        top = round(top * steps[i % 3])
        i += 1
    return top


def chart(data: Growth) -> Chart:
    top = nice_top(max((max(series, default=0) for series in data.totals.values()), default=0))
    span = max(len(data.days) - 1, 1)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return round(LEFT + plot_width * i / span, 1)

    def y(n: int) -> float:
        return round(TOP + plot_height * (1 - n / top), 1)

    lines = [(group, " ".join(f"{x(i)},{y(n)}" for i, n in enumerate(series))) for group, series in data.totals.items()]
    values = [0, top // 2, top] if top % 2 == 0 else [0, top]
    y_ticks = [(y(value), value) for value in values]
    marks = sorted({0, len(data.days) // 2, len(data.days) - 1}) if data.days else []
    return Chart(lines, y_ticks, [(x(i), data.days[i]) for i in marks])
