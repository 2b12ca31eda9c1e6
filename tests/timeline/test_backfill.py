"""History uploaded at once or late: it updates the summaries and never posts old news."""

from __future__ import annotations

from datetime import timedelta

from tests.timeline.harness import timeline
from tests.timeline.suite import SuiteReports

OCC = "### Occurrences seen by triage-bot"
QUIET = "### Seen again after a quiet period"


def _pattern(n: int) -> list[str]:
    """45 days of history: Redis down days 0-5 and 21-25 (a 15-day gap), fixture 30-31."""
    failures = ["redis"] if n <= 5 or 21 <= n <= 25 else []
    return failures + (["fixture"] if n in (30, 31) else [])


def test_a_45_day_backfill_posts_one_summary_per_issue_and_no_event(
    sqlite_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(sqlite_url, suite_reports) as tl:
        arrival = tl.day(45, 3)
        for n in range(45):  # every run arrives within minutes, on day 45
            tl.run(tl.day(n), _pattern(n), uploaded=arrival + timedelta(seconds=n))
            tl.drain()
        backfill = tl.new_writes()
        tl.daily([46], ["redis"])  # the first live run after the backfill
        live = tl.new_writes()
        objective = tl.objective()
    posts = [(w.issue, w.body.splitlines()[0]) for w in backfill if w.kind == "post"]
    assert posts == [(1029, OCC), (623, OCC)]
    assert {w.kind for w in backfill} == {"post", "edit"}
    assert sum(w.kind == "edit" and w.issue == 1029 for w in backfill) == 10
    assert sum(w.kind == "edit" and w.issue == 623 for w in backfill) == 1
    # The history's own quiet gap is noted in the summary as it was replayed, not posted.
    notes = [w.body for w in backfill if "(uploaded later)" in w.body]
    assert len(notes) == 1
    assert "Back after 16 days without an occurrence." in notes[0]
    last = [w for w in backfill if w.issue == 1029][-1].body
    assert "**22** failures in **11** runs" in last
    # Live again: 21 days after the last occurrence is a quiet period, judged on run times.
    assert [(w.kind, w.issue, w.body.splitlines()[0]) for w in live] == [
        ("edit", 1029, OCC),
        ("post", 1029, QUIET),
    ]
    assert "Back after 21 days without an occurrence." in live[1].body
    assert objective["resets"] == []


def test_late_and_out_of_order_runs_only_edit_the_summary(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        tl.daily(range(10), ["redis"])
        tl.new_writes()
        # Day 3's second run, uploaded a week late; then day 9's evening run before the
        # morning one of day 9 was even stored... in reverse order, within the hour.
        tl.run(tl.day(3, 9), ["redis"], uploaded=tl.day(10, 1))
        tl.drain()
        tl.run(tl.day(10, 9), ["redis"])
        tl.run(tl.day(10, 5), ["redis"], uploaded=tl.day(10, 9) + timedelta(minutes=20))
        tl.drain()
        writes = tl.new_writes()
        again = tl.run(tl.day(10, 5), ["redis"])  # the same report again is the same run
        tl.drain()
        after = tl.new_writes()
    assert [(w.kind, w.issue) for w in writes] == [("edit", 1029), ("edit", 1029)]
    assert "**26** failures in **13** runs" in writes[-1].body
    assert again["run_id"] == tl.uploads[-2]
    assert after == []


def test_a_late_run_is_judged_at_its_own_time(sqlite_url: str, suite_reports: SuiteReports) -> None:
    with timeline(sqlite_url, suite_reports) as tl:
        tl.daily([0], ["redis"])
        tl.daily(range(1, 9))
        # Day 9's run reaches the service a day late: the gap is still 9 days, and it is
        # news (uploaded within two days of its start), so it is announced.
        tl.run(tl.day(9), ["redis"], uploaded=tl.day(10, 2))
        tl.drain()
        writes = tl.writes()
    assert [(w.kind, w.body.splitlines()[0]) for w in writes] == [
        ("post", OCC),
        ("edit", OCC),
        ("post", QUIET),
    ]
    assert "Back after 9 days without an occurrence." in writes[2].body
