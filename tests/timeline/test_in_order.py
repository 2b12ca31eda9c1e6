"""Daily runs uploaded as they happen: one summary per issue, events only when they are news."""

from __future__ import annotations

from tests.timeline.harness import timeline
from tests.timeline.suite import SuiteReports

OCC = "### Occurrences seen by triage-bot"
QUIET = "### Seen again after a quiet period"
SPIKE = "### Spike in occurrences"


def test_two_weeks_of_daily_runs_post_one_summary_per_issue_then_only_edit_it(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        seen = []
        for n in range(14):
            # Redis down every other day (the steady pattern a new suite must not call a
            # spike), the fixture missing on days 3 and 4, a product bug on day 4.
            failures = ["redis"] if n % 2 == 0 else []
            failures += ["fixture"] if n in (3, 4) else []
            failures += ["product"] if n == 4 else []
            tl.daily([n], failures)
            seen += [(n, w.kind, w.issue, w.body.splitlines()[0]) for w in tl.new_writes()]
        objective = tl.objective()
    assert seen == [
        (0, "post", 1029, OCC),
        (2, "edit", 1029, OCC),
        (3, "post", 623, OCC),
        (4, "edit", 623, OCC),
        (4, "edit", 1029, OCC),
        *((n, "edit", 1029, OCC) for n in (6, 8, 10, 12)),
    ]
    # The product failure is nobody's known issue: nothing was written for it.
    assert set(tl.github.issues) == {623, 1029}
    # Known issues' failures are not regressions: the streak runs from the first run.
    assert objective["resets"] == []
    assert objective["progress"] == "13/30 days"


def test_a_summary_shows_tests_once_the_rule_the_class_and_a_short_masked_error(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        tl.daily(range(3), ["redis"])
        (post, *edits) = tl.new_writes()
    assert (post.kind, [e.kind for e in edits]) == ("post", ["edit", "edit"])
    body = edits[-1].body
    assert "**6** failures in **3** runs" in body
    first, second, third = [line for line in body.splitlines() if line.startswith("| 2026")]
    assert "`test_staging.py::test_cart_uses_cache`<br>`test_staging.py::test_session_store`" in (
        first
    )
    assert "`1029-redis-connection-failures#redis-client-error`<br>known" in first
    assert "`redis.exceptions.ConnectionError: Error 111 connecting to 127.0.0.1:" in first
    for row in (second, third):
        assert f"same tests as run #{tl.uploads[2]}" in row
        assert f"same as run #{tl.uploads[2]}" in row
        assert "test_session_store" not in row
    assert "First failure linked to #1029" in post.body
    assert "**2** failures in **1** run," in post.body


def test_a_quiet_gap_is_counted_between_runs_and_announced_once(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        tl.daily([0], ["redis"])
        tl.daily(range(1, 10))
        tl.daily([10, 11], ["redis"])
        writes = tl.writes()
    assert [(w.kind, w.issue, w.body.splitlines()[0]) for w in writes] == [
        ("post", 1029, OCC),
        ("edit", 1029, OCC),
        ("post", 1029, QUIET),
        ("edit", 1029, OCC),
    ]
    assert "Back after 10 days without an occurrence." in writes[2].body


def test_a_spike_needs_a_week_of_run_days_and_is_posted_once_a_day(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        tl.daily(range(8), ["redis"])  # two failures a day for eight run days
        tl.new_writes()
        for hour in range(6):  # then six runs on day 8: 12 failures against 2 a day
            tl.run(tl.day(8, hour), ["redis"])
            tl.drain()
        writes = tl.new_writes()
    kinds = [(w.kind, w.body.splitlines()[0]) for w in writes]
    spikes = [w for w in writes if w.body.startswith(SPIKE)]
    assert len(spikes) == 1
    assert kinds.index(("post", SPIKE)) == 4  # the fourth run: 8 failures > 3 x 2
    assert "8 failures on 2026-09-09, against 2.0 a day over the previous 8 days the suite" in (
        spikes[0].body
    )
    assert [k for k in kinds if k != ("post", SPIKE)] == [("edit", OCC)] * 6


def test_auto_filing_files_the_product_failure_once_and_never_the_flaky_test(
    sqlite_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(sqlite_url, suite_reports, file_new_issues=True, new_issue_min_runs=3) as tl:
        for n in range(8):
            # The search test times out every other day: flaky. The product bug stays.
            failures = ["flaky"] if n % 2 == 0 else []
            failures += ["product"] if n >= 2 else []
            tl.daily([n], failures)
        writes = tl.writes()
        filed = {n: i for n, i in tl.github.issues.items() if n not in (623, 1029)}
    assert [w.kind for w in writes] == ["post"]  # the new issue (POST /issues)
    (issue,) = filed.values()
    assert issue["title"] == "AssertionError: order total is 5, expected 4"
    assert "test_staging.py::test_order_total" in issue["body"]
