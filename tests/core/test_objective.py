"""The objective: streak, resets, clean window and coverage from plain inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.errors import TriageError
from bot.core.objective import ObjectiveInputs, Regression, compute, streak_resets

T0 = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)


def _reg(day: int, nodeid: str = "t::a", hour: int = 6) -> Regression:
    at = T0 + timedelta(days=day, hours=hour - 6)
    return Regression(at, nodeid, "new", "FixtureLookupError", "fixture 'x' not found")


def _inputs(at_day: int, regs: list[Regression], run_days: range) -> ObjectiveInputs:
    return ObjectiveInputs(
        suite="staging",
        at=T0 + timedelta(days=at_day),
        days=30,
        min_coverage=0.9,
        first_run_at=T0,
        run_times=[T0 + timedelta(days=d) for d in run_days],
        regressions=regs,
        tz=UTC,
    )


def test_no_regression_streak_counts_from_first_run() -> None:
    obj = compute(_inputs(40, [], range(41)))
    assert (obj.streak_days, obj.window_clean, obj.coverage, obj.met) == (40, True, 1.0, True)
    assert obj.last_regression is None
    assert obj.progress == "30/30 days"


def test_regression_resets_streak_and_dirties_window() -> None:
    regs = [_reg(10), _reg(25, "t::b"), _reg(25, "t::a")]
    obj = compute(_inputs(40, regs, range(41)))
    assert obj.streak_days == 15
    assert obj.last_regression is not None
    assert obj.last_regression.nodeid == "t::a"
    assert not obj.window_clean
    assert not obj.met
    assert [(r.nodeid, r.streak_before_days) for r in obj.resets] == [("t::a", 10), ("t::a", 15)]
    assert obj.resets[0].reason == "new: FixtureLookupError: fixture 'x' not found"
    assert obj.progress == "15/30 days"


def test_regression_older_than_window_keeps_it_clean() -> None:
    obj = compute(_inputs(45, [_reg(10)], range(46)))
    assert obj.window_clean
    assert obj.met
    assert obj.streak_days == 35


def test_days_without_runs_break_coverage() -> None:
    days = [d for d in range(41) if d % 7 not in (5, 6)]  # no weekend runs
    inputs = replace(_inputs(40, [], range(0)), run_times=[T0 + timedelta(days=d) for d in days])
    obj = compute(inputs)
    assert obj.window_clean
    assert not obj.met
    assert obj.days_with_runs == 21
    assert obj.coverage == pytest.approx(21 / 30)


def test_regressions_after_at_are_ignored() -> None:
    obj = compute(_inputs(20, [_reg(30)], range(41)))
    assert obj.last_regression is None
    assert obj.resets == ()


def test_no_runs_at_all() -> None:
    inputs = ObjectiveInputs("s", T0, 30, 0.9, None, [], [], UTC)
    obj = compute(inputs)
    assert (obj.streak_days, obj.coverage, obj.met) == (0, 0.0, False)
    assert obj.window_clean is False  # no run in the window: nothing shows it clean


def test_naive_time_is_refused() -> None:
    inputs = ObjectiveInputs("s", datetime(2026, 1, 1), 30, 0.9, None, [], [], UTC)
    with pytest.raises(TriageError) as info:
        compute(inputs)
    assert info.value.reason == "naive_time"


def test_same_run_regressions_are_one_reset() -> None:
    resets = streak_resets([_reg(3, "t::z"), _reg(3, "t::y"), _reg(3, "t::x", hour=9)], T0)
    assert [(r.nodeid, r.streak_before_days) for r in resets] == [("t::y", 3), ("t::x", 0)]


def test_days_before_the_first_run_are_counted_apart() -> None:
    young = compute(_inputs(9, [], range(10)))  # a suite ten days old, run every day
    assert (young.days_with_runs, young.days_before_first_run, young.met) == (10, 20, False)
    grown = compute(_inputs(40, [], range(41)))
    assert grown.days_before_first_run == 0
    none = compute(ObjectiveInputs("s", T0, 30, 0.9, None, [], [], UTC))
    assert none.days_before_first_run == 30
