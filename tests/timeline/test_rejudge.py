"""Re-judged history over a timeline: a flaky test's first failures, a stored fingerprint linked."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bot.shipped import DEFAULT_KNOWLEDGE_DIR
from tests.timeline.harness import SUITE, Timeline, timeline
from tests.timeline.suite import SuiteReports
from tests.web.conftest import wait_for
from tests.web.webhook_support import payload, send

SEARCH = "test_staging.py::test_search_latency"
ORDER = "test_staging.py::test_order_total"


def command(tl: Timeline, issue: int, body: str, guid: str) -> None:
    """A maintainer comments a `/triage` command on an issue; wait until it is handled."""
    tl.github.roles["mona"] = "maintain"
    data: dict[str, Any] = payload(
        "issue_comment_created",
        comment__body=body,
        comment__id=int(guid.rpartition("-")[2]) + 9000,
        comment__user={"login": "mona", "id": 1, "type": "User"},
    )
    data.pop("installation", None)
    data["issue"]["number"] = issue
    data["repository"]["full_name"] = tl.github.repo
    answer = send(tl.http, "issue_comment", data, guid)
    assert answer.status_code in (200, 202), answer.text
    wait_for(lambda: (row := tl.db.delivery(guid)) is not None and row.status == "done")


def failures_of(tl: Timeline, nodeid: str) -> list[dict[str, Any]]:
    found = []
    for run_id in tl.uploads:
        run = tl.http.get(f"/api/v1/runs/{run_id}").json()
        found += [f for f in run["failures"] if f["nodeid"] == nodeid]
    return found


def test_a_flaky_tests_first_failures_stop_counting_as_regressions(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        for n in range(4):  # fails, passes, fails, passes: looks new twice
            tl.daily([n], ["flaky"] if n % 2 == 0 else [])
        before = [r["nodeid"] for r in tl.objective()["resets"]]
        tl.daily([4], ["flaky"])  # the third flip: the test is flaky
        after = tl.objective()["resets"]
        judged = [f["classification"] for f in failures_of(tl, SEARCH)]
        changes = tl.http.get("/api/v1/judgements").json()["items"]
        writes = tl.writes()
    assert before == [SEARCH, SEARCH]  # a timeout looked like an infrastructure regression
    assert after == []
    assert judged == ["flaky", "flaky", "flaky"]
    assert sorted((c["nodeid"], c["reason"], c["after_classification"]) for c in changes) == [
        (SEARCH, "flaky", "flaky"),
        (SEARCH, "flaky", "flaky"),
    ]
    assert writes == []  # nobody's known issue: GitHub heard nothing of it


def test_linking_a_stored_fingerprint_rejudges_its_history_and_the_next_run_is_known(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        tl.daily(range(3), ["product"])
        (fingerprint,) = {f["fingerprint"] for f in failures_of(tl, ORDER)}
        assert [f["known_issue"] for f in failures_of(tl, ORDER)] == [None, None, None]
        command(tl, 1029, f"/triage link {fingerprint}", "cmd-1")
        command(tl, 1029, "/triage status", "cmd-2")
        tl.drain()
        replies = [w.body for w in tl.new_writes()]
        linked = [f["known_issue"] for f in failures_of(tl, ORDER)]
        tl.daily([3], ["product"])
        after_run = [(w.kind, w.issue, w.body.splitlines()[0]) for w in tl.new_writes()]
        objective = tl.objective()
    assert replies[0].splitlines()[0] == (
        f"@mona linked fingerprint `{fingerprint}` to #1029. Re-judged 3 stored failures."
    )
    status = replies[1].splitlines()
    assert status[1] == "3 failures in 3 runs, last seen 2026-09-03 06:00 UTC."  # not "no matched"
    assert f"- manual link (fingerprint) `{fingerprint}` by @mona" in status
    assert linked == [1029, 1029, 1029]
    # The next run's failure is known: the issue's occurrence comment appears, once.
    assert after_run == [("post", 1029, "### Occurrences seen by triage-bot")]
    assert objective["resets"] == []  # a product failure never reset the streak
    assert objective["suite"] == SUITE


SEARCH_ISSUE = """
issue = 1200
title = "Search backend timeouts in staging"
category = "infrastructure"

[[rules]]
id = "search-latency"
note = "the search service times out when its ClickHouse backend is away"
exception = "TimeoutError"
message = '''search answered after'''
"""


def test_a_knowledge_change_links_old_failures_and_removes_their_resets(
    database_url: str, suite_reports: SuiteReports, tmp_path: Path
) -> None:
    with timeline(database_url, suite_reports) as tl:
        tl.daily([0, 1, 2], ["flaky"])  # new, then persistent: one reset
        github, resets = tl.github, [r["nodeid"] for r in tl.objective()["resets"]]
        assert tl.writes() == []
    knowledge = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, knowledge)
    (knowledge / "issues" / "1200-search-latency.toml").write_text(SEARCH_ISSUE)
    github.add_issue(1200, title="Search backend timeouts in staging")
    # The service restarts with the changed knowledge base: it re-judges what it stored.
    with timeline(database_url, suite_reports, github=github, knowledge_dir=knowledge) as tl:
        judged = [(f["known_issue"], f["classification"]) for f in failures_of_all(tl, SEARCH)]
        after = tl.objective()["resets"]
        changes = tl.http.get("/api/v1/judgements").json()["items"]
        writes = tl.writes()
    assert resets == [SEARCH]
    assert judged == [(1200, "known")] * 3
    assert after == []
    assert {(c["reason"], c["after_issue"]) for c in changes} == {("knowledge", 1200)}
    assert len(changes) == 3
    assert writes == []  # re-judging history posts nothing: only new runs are news


def failures_of_all(tl: Timeline, nodeid: str) -> list[dict[str, Any]]:
    """The test's stored failures in every run of the suite, as the API lists them."""
    found = []
    for run in tl.http.get("/api/v1/runs", params={"per_page": 100}).json()["items"]:
        detail = tl.http.get(f"/api/v1/runs/{run['id']}").json()
        found += [f for f in detail["failures"] if f["nodeid"] == nodeid]
    return found
