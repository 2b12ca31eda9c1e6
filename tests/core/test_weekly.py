"""Weekly report: ISO weeks, escaping, and the rendered Markdown with its Mermaid chart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.charts import mermaid_pass_rate, svg_rate, svg_series
from bot.core.criteria import Status, Verdict, WeekFacts, evaluate, parse_criteria
from bot.core.errors import TriageError
from bot.core.objective import ObjectiveInputs, Regression, compute
from bot.core.weekly import (
    ClusterLine,
    FlakyLine,
    IsoWeek,
    WeeklyReport,
    _objective,
    last_complete_week,
    md,
    md_spans,
    render_markdown,
)


def test_iso_week_parse_and_bounds() -> None:
    week = IsoWeek.parse("2026-W47")
    assert week.monday == date(2026, 11, 16)
    start, end = week.bounds(ZoneInfo("Europe/Berlin"))
    assert start.isoformat() == "2026-11-16T00:00:00+01:00"
    assert end - start == timedelta(days=7)
    assert str(IsoWeek.parse("2027-W01").previous()) == "2026-W53"


@pytest.mark.parametrize("text", ["2026-47", "2026-W54", "2025-W53", "W47"])
def test_bad_week(text: str) -> None:
    with pytest.raises(TriageError) as info:
        IsoWeek.parse(text)
    assert info.value.reason == "bad_week"


def test_last_complete_week_depends_on_time_zone() -> None:
    # Monday 00:30 in Berlin is still Sunday in UTC.
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert str(last_complete_week(now, ZoneInfo("Europe/Berlin"))) == "2026-W47"
    assert str(last_complete_week(now, UTC)) == "2026-W46"


def test_md_neutralises_markup_and_mentions() -> None:
    assert md("<img src=x> @team *bold*\nnext") == "\\<img src=x\\> @\u200dteam \\*bold\\* next"


def test_mermaid_leaves_out_days_without_runs() -> None:
    chart = mermaid_pass_rate([(date(2026, 11, 16), 0.95), (date(2026, 11, 17), None)])
    assert "xychart-beta" in chart
    assert "line [95.0]" in chart
    assert "Tue" not in chart
    assert "No runs" in mermaid_pass_rate([(date(2026, 11, 16), None)])


def test_svg_escapes_series_names() -> None:
    svg = svg_series([date(2026, 11, 16)], {"<b>#1": [3]}, title="a & b")
    assert "&lt;b&gt;#1" in svg
    assert "a &amp; b" in svg
    assert "<b>" not in svg


def test_render_markdown_has_every_section() -> None:
    week = IsoWeek(2026, 47)
    criteria = parse_criteria(
        'version = 1\n[[criterion]]\nid = "o"\ntitle = "Zero regressions"\nkind = "objective"',
        source="x",
    )
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    reg = Regression(at - timedelta(days=15), "t.py::test_`x`", "new", "E", "boom @alice")
    obj = compute(
        ObjectiveInputs(
            "staging",
            at,
            30,
            0.9,
            at - timedelta(days=90),
            [at - timedelta(days=d) for d in range(30)],
            [reg],
            UTC,
        )
    )
    facts = WeekFacts(
        "staging",
        week.monday,
        week.monday + timedelta(days=6),
        {week.monday: 2},
        [],
        {},
        [],
        {1086: 4},
        {1086: 1, 1029: 2},
        obj,
    )
    report = WeeklyReport(
        suite="staging",
        week=week,
        facts=facts,
        verdicts=[Verdict(criteria[0], Status.NOT_MET, "streak 15/30 days")],
        objective=obj,
        new_clusters=[ClusterLine("f" * 16, 7, "KeyError", "t.py::test_k", "'user_id'")],
        flaky=[FlakyLine("t.py::test_flap", 3)],
        daily_pass_rate=[(week.monday, 0.981)],
        issue_titles={1086: "ClickHouse <unreachable>"},
    )
    text = render_markdown(report)
    assert "# Staging weekly report: staging, 2026-W47" in text
    assert "- [ ] **Zero regressions** — not met: streak 15/30 days" in text
    assert "Progress: **15/30 days** (not met)" in text
    assert "`t.py::test_'x'`" in text
    assert "@\u200dalice" in text
    assert "| #1086 ClickHouse \\<unreachable\\> | 4 | 1 | up |" in text
    assert "| #1029 | 0 | 2 | down |" in text
    assert "| 7 | `t.py::test_k` | KeyError: 'user\\_id' |" in text
    assert "- `t.py::test_flap`: 3 flaky failures" in text
    assert "2026-11-16 to 2026-11-22: 2 runs;" in text
    assert "line [98.1]" in text


def test_svg_rate_breaks_the_line_on_days_without_runs() -> None:
    days = [(date(2026, 11, d), r) for d, r in ((16, 1.0), (17, 0.5), (18, None), (19, 0.9))]
    svg = svg_rate(days, title="rate")
    assert svg.count("<polyline") == 1  # 16-17 joined; 19 alone is a dot only
    assert svg.count("<circle") == 3
    assert svg_rate([], title="none").count("<polyline") == 0


def test_code_spans_in_evidence_stay_code_and_the_rest_is_escaped() -> None:
    text = md_spans("2 matching failures, e.g. `t.py::test_a[x*y]` (setup): <b> _x_ @bob")
    assert text == (
        "2 matching failures, e.g. `t.py::test_a[x*y]` (setup): \\<b\\> \\_x\\_ @\u200dbob"
    )
    assert "\\`" not in md_spans("`a` and `b`")
    assert md_spans("an ` unmatched backtick") == "an \\` unmatched backtick"


def _facts(first_run: date | None, runs_per_day: dict[date, int]) -> WeekFacts:
    week = IsoWeek(2026, 47)
    return WeekFacts(
        "staging", week.monday, week.monday + timedelta(days=6), runs_per_day,
        [], {}, [], {}, {}, None, first_run,
    )  # fmt: skip


def test_reports_daily_never_judges_days_before_the_suites_first_run() -> None:
    (criterion,) = parse_criteria(
        'version = 1\n[[criterion]]\nid = "d"\ntitle = "Daily"\nkind = "reports_daily"',
        source="x",
    )
    thursday = date(2026, 11, 19)
    days = {thursday + timedelta(days=d): 1 for d in range(4)}
    (verdict,) = evaluate([criterion], _facts(thursday, days))
    assert verdict.status is Status.MET
    assert verdict.evidence == "4 runs, every day of 4 reported since its first run on 2026-11-19"
    (before,) = evaluate([criterion], _facts(date(2026, 11, 30), {}))
    assert before.status is Status.NO_DATA
    (one,) = evaluate([criterion], _facts(None, {date(2026, 11, 16): 1}))
    assert one.evidence.startswith("6 of 7 days without enough runs")
    (sunday,) = evaluate([criterion], _facts(date(2026, 11, 22), {date(2026, 11, 22): 1}))
    assert sunday.evidence == "1 run, every day of 1 reported since its first run on 2026-11-22"


def test_a_regression_reason_never_repeats_the_exception_type() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    message = "ModuleNotFoundError: No module named 'redis'"
    reg = Regression(at, "t.py::test_a", "new", "ModuleNotFoundError", message)
    assert reg.reason == "new: ModuleNotFoundError: No module named 'redis'"
    short = Regression(at, "t.py::test_a", "new", "redis.exceptions.ConnectionError", "x")
    assert short.reason == "new: redis.exceptions.ConnectionError: x"


def test_a_new_suite_s_objective_says_which_days_came_before_its_first_run() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    young = compute(
        ObjectiveInputs(
            "staging", at, 30, 0.9, at - timedelta(days=9),
            [at - timedelta(days=d) for d in range(10)], [], UTC,
        )
    )  # fmt: skip
    old = compute(
        ObjectiveInputs(
            "staging", at, 30, 0.9, at - timedelta(days=90),
            [at - timedelta(days=d) for d in range(30)], [], UTC,
        )
    )  # fmt: skip
    young_lines = "\n".join(_objective(young))
    assert "runs on 10/30 days (33% coverage)" in young_lines
    assert (
        "- The suite has run for 10 days of the window: its first 20 days came before its first "
        "run and count as days without a run" in young_lines
    )
    assert "first run" not in "\n".join(_objective(old))
