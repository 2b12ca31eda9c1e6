"""The weekly report service on the in-memory report read models: claims, contents, catch-up.

tests/store/test_port_contracts.py holds the fake to the store's week claims and run queries;
test_weekly_service.py runs the same service on real databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import Settings
from bot.configs import report_config
from bot.core.criteria import WeekFacts, load_criteria
from bot.core.errors import TriageError
from bot.core.intents import PostComment
from bot.core.objective import Regression
from bot.core.weekly import ClusterLine, IsoWeek
from bot.services.objective import UnknownSuiteError
from bot.services.weekly import post_due_reports, post_week, render_week
from tests.fakes import FakeReportData, FakeReportsUowFactory, RecordingOutbox

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
CONFIG = report_config(SETTINGS)
CRITERIA = load_criteria(SETTINGS.knowledge_dir / "criteria.toml")
NOW = datetime.fromisoformat("2026-11-16T09:00:00+00:00")  # Monday of W47, at the report hour
W46 = IsoWeek(2026, 46)
FIRST_DAY = date(2026, 9, 28)  # a Monday, seven weeks before W46


def _daily_runs(data: FakeReportData, suite: str, first: date, last: date) -> None:
    day = first
    while day <= last:
        started = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        data.add_run(suite, started, {"passed": 9, "failed": 1})
        day += timedelta(days=1)


@pytest.fixture
def data() -> FakeReportData:
    made = FakeReportData()
    _daily_runs(made, "staging", FIRST_DAY, date(2026, 11, 15))
    return made


def _post(uow: FakeReportsUowFactory, week: IsoWeek = W46, suite: str = "staging") -> bool:
    return post_week(uow, suite=suite, week=week, now=NOW, config=CONFIG, criteria=CRITERIA)


def test_a_week_is_posted_once(data: FakeReportData) -> None:
    uow = FakeReportsUowFactory(data)
    assert _post(uow)
    assert not _post(uow)
    assert not _post(FakeReportsUowFactory(data))  # another replica on the same claims
    (intent,) = data.intents.values()
    assert isinstance(intent, PostComment)
    assert (intent.key, intent.issue) == ("weekly:staging:2026-W46", CONFIG.report_issue)
    assert "# Staging weekly report: staging, 2026-W46" in intent.body
    assert set(data.claims) == {("staging", "2026-W46")}
    assert uow.opened == [True, True]  # claims are taken in a writing unit of work
    assert data.commits == 1


def test_a_crash_before_commit_leaves_the_week_to_post(data: FakeReportData) -> None:
    crashing = FakeReportsUowFactory(data, outbox=lambda: RecordingOutbox(fail=True))
    with pytest.raises(RuntimeError):
        _post(crashing)
    assert (data.claims, data.held, data.intents) == ({}, set(), {})
    assert _post(FakeReportsUowFactory(data))
    assert list(data.intents) == ["weekly:staging:2026-W46"]


def test_the_report_is_built_from_what_the_read_models_return(data: FakeReportData) -> None:
    seen = datetime(2026, 11, 12, 6, tzinfo=UTC)
    data.regressions["staging"] = [
        Regression(seen, "tests/test_db.py::test_connect", "new", "ConnectionError", "refused")
    ]
    data.clusters += [
        ("staging", seen, ClusterLine("f1", 4, "KeyError", "tests/test_cart.py::test_sum", "'x'")),
        ("staging", seen - timedelta(days=7), ClusterLine("f0", 9, None, "tests/old.py::t", "")),
    ]
    data.flaky += [("staging", seen, "tests/test_ui.py::test_click")] * 2
    text = render_week(
        FakeReportsUowFactory(data), suite="staging", week=W46, now=NOW, config=CONFIG,
        criteria=CRITERIA,
    )  # fmt: skip
    assert "2026-11-09 to 2026-11-15: 7 runs" in text
    assert "Last regression: 2026-11-12 06:00 `tests/test_db.py::test_connect`" in text
    assert "Progress: **3/30 days** (not met)" in text  # the streak since that regression
    assert "`tests/test_cart.py::test_sum`" in text
    assert "tests/old.py" not in text  # first seen the week before: not new this week
    assert "`tests/test_ui.py::test_click`: 2 flaky failures" in text
    assert "line [90.0, 90.0, 90.0, 90.0, 90.0, 90.0, 90.0]" in text  # 9 of 10 passed, daily
    assert data.claims == {}  # rendering claims nothing


def test_prepared_week_facts_are_what_the_report_shows(data: FakeReportData) -> None:
    data.facts[("staging", str(W46))] = WeekFacts(
        suite="staging", first_day=W46.monday, last_day=W46.monday + timedelta(days=6),
        runs_per_day={W46.monday: 2}, failures=[], failed_runs_by_nodeid={}, tests=[],
        known_this_week={1029: 3}, known_last_week={1029: 1}, objective=None,
    )  # fmt: skip
    data.titles[1029] = "Redis connection failures"
    assert _post(FakeReportsUowFactory(data))
    (intent,) = data.intents.values()
    assert isinstance(intent, PostComment)
    assert "2026-11-09 to 2026-11-15: 2 runs" in intent.body
    assert "| #1029 Redis connection failures | 3 | 1 |" in intent.body


def test_an_unknown_suite_or_a_running_week_is_refused(data: FakeReportData) -> None:
    uow = FakeReportsUowFactory(data)
    with pytest.raises(UnknownSuiteError):
        _post(uow, suite="nightly")
    with pytest.raises(TriageError) as running:
        _post(uow, week=IsoWeek(2026, 47))
    assert running.value.reason == "week_not_over"
    assert (data.claims, data.intents) == ({}, {})


def test_catch_up_posts_each_missed_week_once(data: FakeReportData) -> None:
    data.claims[("staging", "2026-W43")] = NOW - timedelta(weeks=3)
    # A suite that began in W46 gets that week's report only, none from before it existed.
    _daily_runs(data, "fresh", date(2026, 11, 13), date(2026, 11, 15))
    uow = FakeReportsUowFactory(data)
    posted = post_due_reports(uow, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert [(suite, str(week)) for suite, week in posted] == [
        ("fresh", "2026-W46"),
        ("staging", "2026-W44"),
        ("staging", "2026-W45"),
        ("staging", "2026-W46"),
    ]
    assert sorted(data.intents) == [
        "weekly:fresh:2026-W46",
        "weekly:staging:2026-W44",
        "weekly:staging:2026-W45",
        "weekly:staging:2026-W46",
    ]
    assert post_due_reports(uow, now=NOW, config=CONFIG, criteria=CRITERIA) == []
    assert len(data.intents) == 4


def test_a_claim_not_yet_committed_blocks_another_replica(data: FakeReportData) -> None:
    # The store's unique row makes the second claimant wait and then fail; the fake fails at once.
    uow = FakeReportsUowFactory(data)
    with uow(write=True) as first:
        assert first.reports.claim_week(suite="staging", week="2026-W46", now=NOW)
        assert not _post(uow)
        first.commit()
    assert not _post(uow)
    assert data.intents == {}
