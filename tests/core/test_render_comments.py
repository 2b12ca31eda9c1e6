"""Comment text: sparkline, run table, stable text, GitHub's length cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.core.render_comments import (
    BODY_MAX,
    IssueActivity,
    RunRef,
    daily_series,
    occurrence_comment,
    run_row,
    run_rows,
    sparkline,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _run(n: int, tests: tuple[str, ...] = ("tests/test_a.py::test_x",)) -> RunRef:
    return RunRef(
        run_id=n,
        started_at=NOW - timedelta(hours=n),
        url=f"https://ci.test/runs/{n}",
        branch="main",
        commit="0123456789abcdef",
        failing_tests=tests,
    )


def _activity(runs: tuple[RunRef, ...], daily: tuple[tuple[date, int], ...] = ()) -> IssueActivity:
    return IssueActivity(
        issue=7,
        state="open",
        occurrences=42,
        runs=len(runs),
        first_seen=NOW - timedelta(days=40),
        last_seen=NOW,
        previous_seen=NOW - timedelta(days=1),
        daily=daily,
        latest_runs=runs,
    )


def test_sparkline_scales_to_the_highest_day_and_dots_empty_days() -> None:
    assert sparkline([0, 1, 4, 8]) == "·▁▄█"
    assert sparkline([0, 0]) == "··"
    assert sparkline([]) == ""


def test_daily_series_covers_thirty_days_ending_today() -> None:
    today = NOW.date()
    activity = _activity(
        (), daily=((today, 3), (today - timedelta(days=29), 1), (today - timedelta(days=30), 9))
    )
    series = daily_series(activity, today)
    assert len(series) == 30
    assert (series[0], series[-1], sum(series)) == (1, 3, 4)


def test_run_row_links_the_run_and_escapes_pipes() -> None:
    row = run_row(_run(3, ("t.py::test[a|b]",)))
    assert row.startswith(
        "| 2026-11-20 09:00 | [#3](https://ci.test/runs/3) | main @ `0123456789` |"
    )
    assert "test[a\\|b]" in row


def test_occurrence_comment_has_totals_sparkline_and_table_and_is_stable() -> None:
    activity = _activity((_run(1), _run(2)), daily=((NOW.date(), 2),))
    body = occurrence_comment(activity, today=NOW.date())
    assert "**42** failures in **2** runs" in body
    assert "last seen 2026-11-20 12:00 UTC" in body
    assert "`·····························█`" in body
    assert body.count("| [#") == 2
    assert occurrence_comment(activity, today=NOW.date()) == body


def test_long_tables_are_cut_under_githubs_limit_and_say_so() -> None:
    names = tuple(f"tests/test_{'x' * 180}_{n}.py::test" for n in range(5))
    activity = _activity(tuple(_run(n, names) for n in range(200)))
    body = occurrence_comment(activity, today=NOW.date())
    assert len(body) <= BODY_MAX
    assert "older runs not shown: GitHub's comment size limit" in body
    shown = body.count("| [#")
    assert 0 < shown < 200
    assert f"_{200 - shown} older runs not shown" in body


def test_a_small_limit_still_gives_a_bounded_body() -> None:
    activity = _activity(tuple(_run(n) for n in range(10)))
    body = occurrence_comment(activity, today=NOW.date(), limit=120)
    assert len(body) <= 120


def test_rows_list_tests_and_errors_once_with_rule_class_and_a_masked_bounded_excerpt() -> None:
    secret = "token=ghp_" + "a" * 36
    runs = (
        replace(_run(1, ("t.py::a", "t.py::b")), excerpt=f"E: boom {secret} " + "x" * 500,
                rule="1029#r", classification="known"),
        replace(_run(2, ("t.py::a", "t.py::b")), excerpt="E: other", rule="1029#r",
                classification="recurred"),
        replace(_run(3, ("t.py::a", "t.py::b")), excerpt=f"E: boom {secret} " + "x" * 500,
                rule=None, classification="known"),
    )  # fmt: skip
    first, second, third = run_rows(runs)
    assert "`t.py::a`<br>`t.py::b`" in first
    assert "`1029#r`<br>known" in first
    assert "ghp_" not in first
    error = first.rsplit(" | ", 2)[-1]
    assert len(error) <= 130
    assert "same tests as run #1" in second
    assert "`E: other`" in second
    assert "`1029#r`<br>recurred" in second
    assert "same tests as run #1" in third
    assert "same as run #1" in third
    assert "| link<br>known |" in third


def test_counts_are_plural_only_when_they_should_be() -> None:
    one = replace(_activity((_run(1),)), occurrences=1)
    assert "**1** failure in **1** run," in occurrence_comment(one, today=NOW.date())
