"""The comment policy: one edited summary per issue, new comments only on events, budgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clusters import ClusterSummary
from bot.core.comment_policy import PolicyConfig, event_for, plan_new_issue, plan_run, plan_stale
from bot.core.intents import CreateIssue, PostComment, SetIssueState, UpsertComment
from bot.core.render_comments import IssueActivity, RunRef

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CONFIG = PolicyConfig()


def _activity(**changes: object) -> IssueActivity:
    run = RunRef(9, NOW, "https://ci.test/9", "main", "abc", ("t.py::test_a",))
    base = IssueActivity(
        issue=5,
        state="open",
        occurrences=10,
        runs=6,
        first_seen=NOW - timedelta(days=20),
        last_seen=NOW,
        previous_seen=NOW - timedelta(days=1),
        daily=((NOW.date(), 1), (NOW.date() - timedelta(days=1), 1)),
        latest_runs=(run,),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _kinds(intents: Sequence[object]) -> list[str]:
    return [type(i).__name__ for i in intents]


def test_an_ordinary_run_only_updates_the_occurrence_comment() -> None:
    intents = plan_run([_activity()], run_id=9, now=NOW, config=CONFIG)
    assert _kinds(intents) == ["UpsertComment"]
    (upsert,) = intents
    assert isinstance(upsert, UpsertComment)
    assert (upsert.issue, upsert.marker, upsert.key) == (5, "occurrences", "occurrences:5:run9")


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"previous_seen": NOW - timedelta(days=8)}, "quiet"),
        (
            {
                "state": "closed",
                "state_since": NOW - timedelta(days=2),
                "previous_seen": NOW - timedelta(days=3),
            },
            "recurred",
        ),
        (
            {
                "daily": (
                    *((NOW.date() - timedelta(days=d), 1) for d in range(1, 15)),
                    (NOW.date(), 4),
                ),
                "run_days": tuple(NOW.date() - timedelta(days=d) for d in range(1, 15)),
            },
            "spike",
        ),
    ],
)
def test_events_get_a_new_comment(changes: dict[str, object], kind: str) -> None:
    activity = _activity(**changes)
    assert event_for(activity, CONFIG, NOW) is not None
    intents = plan_run([activity], run_id=9, now=NOW, config=CONFIG)
    assert _kinds(intents) == ["UpsertComment", "PostComment"]
    post = intents[1]
    assert isinstance(post, PostComment)
    assert post.key.startswith(f"event:5:2026-11-20:{kind}")
    assert "[#9](https://ci.test/9)" in post.body


def test_a_first_occurrence_is_announced_by_the_new_summary_alone() -> None:
    first = _activity(previous_seen=None, events_today=5)
    assert event_for(first, CONFIG, NOW) == ("first", "First failure linked to #5.")
    intents = plan_run([first], run_id=9, now=NOW, config=CONFIG)
    assert _kinds(intents) == ["UpsertComment"]
    upsert = intents[0]
    assert isinstance(upsert, UpsertComment)
    assert "First failure linked to #5" in upsert.body
    assert "over the day's comment budget" not in upsert.body


def test_no_spike_below_the_factor_and_quiet_period_is_per_issue() -> None:
    steady = _activity(daily=tuple((NOW.date() - timedelta(days=d), 2) for d in range(15)))
    assert event_for(steady, CONFIG, NOW) is None
    eight_days = _activity(previous_seen=NOW - timedelta(days=8))
    intents = plan_run(
        [eight_days], run_id=9, now=NOW, config=CONFIG, overrides={5: {"quiet_days": 10}}
    )
    assert _kinds(intents) == ["UpsertComment"]


def test_closed_issue_recurs_once_and_is_reopened_when_configured() -> None:
    closed = _activity(
        state="closed", state_since=NOW - timedelta(days=3), previous_seen=NOW - timedelta(days=4)
    )
    intents = plan_run(
        [closed], run_id=9, now=NOW, config=replace(CONFIG, reopen_on_recurrence=True)
    )
    assert _kinds(intents) == ["UpsertComment", "PostComment", "SetIssueState"]
    assert intents[2] == SetIssueState(5, "open", "reopened", "reopen:5:run9")
    again = replace(closed, previous_seen=NOW - timedelta(hours=1))  # already announced
    assert _kinds(plan_run([again], run_id=10, now=NOW, config=CONFIG)) == ["UpsertComment"]
    off = plan_run(
        [closed], run_id=9, now=NOW, config=CONFIG, overrides={5: {"reopen_on_recurrence": False}}
    )
    assert "SetIssueState" not in _kinds(off)


def test_over_budget_events_roll_into_the_edited_comment() -> None:
    back = _activity(previous_seen=NOW - timedelta(days=8), events_today=3)
    intents = plan_run([back], run_id=9, now=NOW, config=CONFIG)
    assert _kinds(intents) == ["UpsertComment"]
    upsert = intents[0]
    assert isinstance(upsert, UpsertComment)
    assert "over the day's comment budget" in upsert.body
    assert "Back after 8 days" in upsert.body
    budget_one = plan_run(
        [_activity(previous_seen=NOW - timedelta(days=8), events_today=1)],
        run_id=9,
        now=NOW,
        config=CONFIG,
        overrides={5: {"daily_budget": 1}},
    )
    assert _kinds(budget_one) == ["UpsertComment"]


def test_stale_issues_get_one_notice_with_evidence() -> None:
    quiet = _activity(last_seen=NOW - timedelta(days=15))
    (notice,) = plan_stale(
        [
            quiet,
            _activity(),
            _activity(issue=6, state="closed", last_seen=NOW - timedelta(days=30)),
        ],
        now=NOW,
        config=CONFIG,
    )
    assert isinstance(notice, PostComment)
    assert notice.issue == 5
    assert "for 15 days of runs" in notice.body
    assert "consider closing" in notice.body
    again = plan_stale([quiet], now=NOW + timedelta(days=3), config=CONFIG)
    assert again[0].key == notice.key  # same quiet stretch, same key: the outbox stores it once


def _cluster(fp: str, runs: int) -> ClusterSummary:
    return ClusterSummary(
        fingerprint=fp,
        suite="e2e",
        first_seen=NOW,
        last_seen=NOW,
        count=runs * 2,
        runs=runs,
        exception="ValueError",
        example_nodeid="t.py::test_b",
        example_message="ValueError: bad\nmore",
        suggested_rule="[[rules]]",
    )


def test_new_issues_are_off_by_default_and_at_most_one_per_run() -> None:
    clusters = [_cluster("aa", 3), _cluster("bb", 5), _cluster("cc", 2)]
    assert plan_new_issue(clusters, config=CONFIG) == []
    (filed,) = plan_new_issue(
        clusters, config=replace(CONFIG, file_new_issues=True), labels=("triage-bot",)
    )
    assert isinstance(filed, CreateIssue)
    assert (filed.key, filed.labels, filed.title) == (
        "fingerprint:bb",
        ("triage-bot",),
        "ValueError: bad",
    )
    assert "`bb`" in filed.body
    assert plan_new_issue([_cluster("cc", 2)], config=replace(CONFIG, file_new_issues=True)) == []


def _spiky(run_days: int) -> IssueActivity:
    return _activity(
        daily=((NOW.date(), 9), *((NOW.date() - timedelta(days=d), 1) for d in range(1, 4))),
        run_days=tuple(NOW.date() - timedelta(days=d) for d in range(1, run_days + 1)),
    )


def test_a_spike_is_judged_only_on_days_the_suite_ran_and_after_a_week_of_them() -> None:
    assert event_for(_spiky(6), CONFIG, NOW) is None  # a new suite: no baseline yet
    kind, detail = event_for(_spiky(7), CONFIG, NOW) or ("", "")
    # The days without failures count (the suite ran), days before it existed do not.
    assert (kind, detail) == (
        "spike",
        "9 failures on 2026-11-20, against 0.4 a day over the previous 7 days the suite ran.",
    )


def test_a_run_older_than_the_newest_occurrence_only_updates_the_summary() -> None:
    back = _activity(previous_seen=NOW - timedelta(days=9), later_seen=NOW + timedelta(days=2))
    assert event_for(back, CONFIG, NOW) is None
    assert _kinds(plan_run([back], run_id=9, now=NOW, config=CONFIG)) == ["UpsertComment"]
    closed = _activity(state="closed", state_since=NOW + timedelta(hours=1), previous_seen=None)
    assert event_for(closed, CONFIG, NOW) is None  # the run predates the closing


def test_a_run_that_arrives_days_after_it_started_is_history() -> None:
    quiet = _activity(previous_seen=NOW - timedelta(days=9))
    late = NOW + timedelta(days=3)
    intents = plan_run([quiet], run_id=9, now=late, at=NOW, config=CONFIG)
    assert _kinds(intents) == ["UpsertComment"]
    assert "run #9: Back after 9 days without an occurrence. (uploaded later)" in str(intents)
    in_time = plan_run([quiet], run_id=9, now=NOW + timedelta(hours=30), at=NOW, config=CONFIG)
    assert _kinds(in_time) == ["UpsertComment", "PostComment"]


def test_the_daily_budget_is_per_the_runs_day_and_staleness_per_the_suites_runs() -> None:
    back = _activity(previous_seen=NOW - timedelta(days=8), events_today=0)
    (_, post) = plan_run([back], run_id=9, now=NOW + timedelta(days=1), at=NOW, config=CONFIG)
    assert isinstance(post, PostComment)
    assert post.key == "event:5:2026-11-20:quiet:run9"
    idle = _activity(last_seen=NOW - timedelta(days=20), suite_last_run=NOW - timedelta(days=19))
    assert plan_stale([idle], now=NOW, config=CONFIG) == []  # the suite stopped running too
    ran = replace(idle, suite_last_run=NOW)
    (notice,) = plan_stale([ran], now=NOW, config=CONFIG)
    assert isinstance(notice, PostComment)
    assert "for 20 days of runs" in notice.body
