"""The dashboard's SVG charts: fluid width, round ticks on both axes, a strip per run."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from bot.core.charts import day_ticks, svg_rate, svg_series, svg_strip, ticks

DAYS = [date(2026, 10, 22) + timedelta(days=i) for i in range(30)]


@pytest.mark.parametrize(
    ("top", "whole", "expected"),
    [
        (7, True, [0, 2, 4, 6, 8]),
        (1, True, [0, 1]),
        (3, True, [0, 1, 2, 3]),
        (250, True, [0, 100, 200, 300]),
        (0, True, [0, 1]),
        (1.0, False, [0, 0.5, 1.0]),
        (13, False, [0, 5, 10, 15]),
    ],
)
def test_ticks_are_round_and_cover_the_top(top: float, whole: bool, expected: list[float]) -> None:
    assert ticks(top, whole=whole) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, []), (1, [0]), (5, [0, 1, 2, 3, 4]), (8, [0, 2, 4, 7]), (30, [0, 6, 12, 18, 24, 29])],
)
def test_day_ticks_keep_both_ends_and_space_the_rest(n: int, expected: list[int]) -> None:
    assert day_ticks(n) == expected


def test_bars_have_ticks_between_the_ends_and_scale_to_their_column() -> None:
    svg = svg_series(DAYS, {"#1": [0] * 27 + [1, 2, 7]}, title="t")
    assert 'width="100%"' in svg
    assert 'viewBox="0 0 520 200"' in svg
    labels = re.findall(r">(\d\d-\d\d)</text>", svg)
    assert labels == ["10-22", "10-28", "11-03", "11-09", "11-15", "11-20"]
    assert re.findall(r'text-anchor="end">(\d+)</text>', svg) == ["0", "2", "4", "6", "8"]
    assert svg.count("<rect") == 4  # plot area and three bars


def test_rate_axis_is_in_percent_quarters() -> None:
    svg = svg_rate([(d, 0.5) for d in DAYS[:10]], title="rate")
    assert re.findall(r">(\d+%)</text>", svg) == ["0%", "25%", "50%", "75%", "100%"]
    assert len(re.findall(r">(\d\d-\d\d)</text>", svg)) == 5  # 10 days: every other one, ends kept


def test_strip_draws_one_cell_per_run_in_order() -> None:
    svg = svg_strip("PFKS", title="<x>")
    assert re.findall(r"<title>run \d: (\w+)</title>", svg) == [
        "passed",
        "failed",
        "flaky",
        "other",
    ]
    assert "&lt;x&gt;" in svg
    assert "latest (4 runs)" in svg
    assert "<rect" not in svg_strip("", title="none")
