"""A verdict on every commit: check runs (GitHub App) and commit statuses (token), end to end.

The real app over HTTP receives real pytest reports with their commit, the outbox is drained by
a sender the test drives against the fake GitHub, and a `/triage link` re-judges history. Each
test reads back what GitHub holds: check runs per commit, statuses per context.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from copy import deepcopy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.github.gateway import make_gateway
from bot.shipped import DEFAULT_KNOWLEDGE_DIR
from tests.github.fake_state import app_private_key
from tests.github.outbox_helpers import FakeClock, sender
from tests.github_server import Fault, GitHubState
from tests.timeline.harness import SUITE, Timeline, timeline
from tests.timeline.suite import SuiteReports
from tests.web.conftest import auth, wait_for
from tests.web.webhook_support import payload, send

GREEN_SHA = "a" * 40
RED_SHA = "b" * 40
NAME = f"triage-bot / {SUITE}"
ORDER = "test_staging.py::test_order_total"
PUBLIC = "https://triage.example.test"


@pytest.fixture(scope="module")
def suite_reports(tmp_path_factory: pytest.TempPathFactory) -> SuiteReports:
    return SuiteReports(tmp_path_factory.mktemp("verdict-suite"))


def _app(**values: Any) -> dict[str, Any]:
    """Settings of a service authenticated as a GitHub App."""
    return {
        "github_token": None,
        "github_app_id": 42,
        "github_app_private_key": SecretStr(app_private_key()),
        **values,
    }


@pytest.fixture
def app_timeline(database_url: str, suite_reports: SuiteReports) -> Iterator[Timeline]:
    settings = _app(commit_verdict="auto", public_url=PUBLIC)
    with timeline(database_url, suite_reports, **settings) as tl:
        yield tl


def upload(tl: Timeline, day: int, failures: list[str], commit: str | None) -> int:
    """Upload the suite's run of a day with the commit it tested."""
    at = tl.day(day)
    tl.clock.now = at + timedelta(minutes=10)
    params = {"suite": SUITE, "started_at": at.isoformat()}
    if commit is not None:
        params["commit"] = commit
    answer = tl.http.post(
        "/api/v1/runs", params=params, content=tl.reports.dated(frozenset(failures), at),
        headers=auth(),
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    run_id = int(answer.json()["run_id"])
    tl.uploads.append(run_id)
    return run_id


def drain(tl: Timeline, **values: Any) -> Any:
    """Send the outbox as the service would: with its own credentials (App or token)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        github_api_url=tl.github.base_url,
        github_repository=tl.github.repo,
        **(values or _app()),
    )
    gateway, dry = make_gateway(settings, timeout=1)
    assert not dry
    assert tl.db.engine is not None
    return sender(tl.db.engine, gateway, FakeClock(now=tl.clock.now)).drain()


def link(tl: Timeline, issue: int, target: str, guid: str) -> None:
    """A maintainer links a fingerprint to an issue with `/triage link`; wait until handled."""
    tl.github.roles["mona"] = "maintain"
    data: dict[str, Any] = payload(
        "issue_comment_created",
        comment__body=f"/triage link {target}",
        comment__id=int(guid.rpartition("-")[2]) + 9000,
        comment__user={"login": "mona", "id": 1, "type": "User"},
    )
    data.pop("installation", None)
    data["issue"]["number"] = issue
    data["repository"]["full_name"] = tl.github.repo
    answer = send(tl.http, "issue_comment", data, guid)
    assert answer.status_code in (200, 202), answer.text
    wait_for(lambda: (row := tl.db.delivery(guid)) is not None and row.status == "done")


def fingerprint_of(tl: Timeline, run_id: int, nodeid: str) -> str:
    run = tl.http.get(f"/api/v1/runs/{run_id}").json()
    (found,) = {f["fingerprint"] for f in run["failures"] if f["nodeid"] == nodeid}
    return str(found)


def verdict_calls(github: GitHubState) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in github.requests
        if "/check-runs" in r.path or "/statuses/" in r.path or r.path.endswith("/status")
    ]


def test_a_github_app_gets_one_check_run_per_run_edited_when_the_run_is_rejudged(
    app_timeline: Timeline,
) -> None:
    tl = app_timeline
    green = upload(tl, 0, [], GREEN_SHA)
    red = upload(tl, 1, ["product"], RED_SHA)
    drain(tl)
    (passed,) = deepcopy(tl.github.check_runs_on(GREEN_SHA, NAME))
    (blocked,) = deepcopy(tl.github.check_runs_on(RED_SHA, NAME))
    summary = blocked["output"]["summary"]
    link(tl, 1029, fingerprint_of(tl, red, ORDER), "cmd-1")
    drain(tl)
    (after,) = tl.github.check_runs_on(RED_SHA, NAME)
    (green_after,) = tl.github.check_runs_on(GREEN_SHA, NAME)
    creates = [c for c in verdict_calls(tl.github) if c[0] == "POST"]
    assert (passed["conclusion"], passed["output"]["title"]) == ("success", "No failures")
    assert passed["external_id"] == f"run:{green}"
    assert blocked["conclusion"] == "failure"
    assert blocked["output"]["title"] == "1 failure: 1 new product failure"
    assert blocked["details_url"] == f"{PUBLIC}/runs/{red}"
    assert f"`{ORDER}`" in summary
    # Where it started: the green run and commit before it, and GitHub's compare view.
    assert f"last passed in run #{green} (`{GREEN_SHA[:10]}`)" in summary
    assert f"first failed in run #{red} (`{RED_SHA[:10]}`)" in summary
    web = f"{tl.github.base_url}/{tl.github.repo}"  # a GitHub Enterprise Server's web host
    assert f"({web}/compare/{GREEN_SHA}...{RED_SHA})" in summary
    # The link made the failure known: the same check run now says so, none was added.
    assert after["id"] == blocked["id"]
    assert after["conclusion"] == "neutral"
    assert after["output"]["title"] == "1 failure: 1 known (#1029 \u00d71)"
    assert green_after == passed  # its verdict did not move: not written again
    assert len(creates) == 2
    patches = [c for c in verdict_calls(tl.github) if c[0] == "PATCH"]
    assert patches == [("PATCH", f"/repos/{tl.github.repo}/check-runs/{blocked['id']}")]


@pytest.mark.parametrize("fault", ["drop", "lost"])
def test_a_check_run_created_but_unanswered_is_found_never_created_twice(
    app_timeline: Timeline, fault: str
) -> None:
    tl = app_timeline
    tl.github.faults.append(Fault("POST", r"/check-runs$", fault))
    red = upload(tl, 0, ["product"], RED_SHA)
    first = drain(tl)
    creates = [c for c in verdict_calls(tl.github) if c[0] == "POST"]
    (check_run,) = deepcopy(tl.github.check_runs_on(RED_SHA))
    link(tl, 1029, fingerprint_of(tl, red, ORDER), "cmd-1")
    drain(tl)
    (after,) = tl.github.check_runs_on(RED_SHA)
    assert first.in_doubt >= 1  # the create's outcome was unknown
    assert (first.sent, first.dead) == (1, 0)
    assert len(creates) == 1  # looked for before writing again, and found
    assert check_run["conclusion"] == "failure"
    assert (after["id"], after["conclusion"]) == (check_run["id"], "neutral")


def test_a_token_posts_commit_statuses_replaced_by_context(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports, commit_verdict="auto") as tl:
        red = upload(tl, 0, ["product"], RED_SHA)
        tl.drain()
        before = deepcopy(tl.github.combined_status(RED_SHA))
        link(tl, 1029, fingerprint_of(tl, red, ORDER), "cmd-1")
        tl.drain()
        after = tl.http.get(f"/api/v1/runs/{red}/verdict").json()
        combined = tl.github.combined_status(RED_SHA)
        posts = [c for c in verdict_calls(tl.github) if c[0] == "POST"]
    (blocked,) = before["statuses"]
    assert (blocked["state"], blocked["context"]) == ("failure", NAME)
    assert blocked["description"] == "1 failure: 1 new product failure"
    assert blocked["target_url"] is None  # no public address configured: no link back
    assert tl.github.check_runs == {}  # a token may not create check runs
    # The re-judged run's new status replaces the old one under the same context.
    (known,) = combined["statuses"]
    assert (known["state"], known["context"], combined["state"]) == ("success", NAME, "success")
    assert known["description"] == after["title"] == "1 failure: 1 known (#1029 \u00d71)"
    assert len(posts) == 2


def test_off_by_default_and_a_run_without_a_commit_gets_nothing(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:  # TRIAGE_COMMIT_VERDICT unset: off
        upload(tl, 0, ["product"], RED_SHA)
        tl.drain()
        off = verdict_calls(tl.github)
    with timeline(database_url, suite_reports, commit_verdict="status") as tl:
        upload(tl, 1, ["product"], None)
        upload(tl, 2, ["product"], "not-a-sha")
        tl.drain()
        without = verdict_calls(tl.github)
        writes = tl.github.writes()
    assert off == []
    assert without == []
    assert writes == []


def test_an_auto_filed_issue_says_where_each_failing_test_started(
    database_url: str, suite_reports: SuiteReports
) -> None:
    settings = {"file_new_issues": True, "new_issue_min_runs": 2}
    with timeline(database_url, suite_reports, **settings) as tl:
        green = upload(tl, 0, [], GREEN_SHA)
        red = upload(tl, 1, ["product"], RED_SHA)
        upload(tl, 2, ["product"], "c" * 40)
        tl.drain()
        filed = [i for i in tl.github.issues.values() if i["user"]["login"] == tl.github.login]
    (issue,) = filed
    body = issue["body"]
    web = f"{tl.github.base_url}/{tl.github.repo}"
    line = next(x for x in body.splitlines() if x.startswith(f"- `{ORDER}`"))
    assert f"last passed in run #{green} (`{GREEN_SHA[:10]}`)" in line
    assert f"first failed in run #{red} (`{RED_SHA[:10]}`)" in line
    assert f"[compare]({web}/compare/{GREEN_SHA}...{RED_SHA})" in line


SEARCH = "test_staging.py::test_search_latency"
SEARCH_ISSUE = """
issue = 1200
title = "Search backend timeouts in staging"
category = "infrastructure"

[[rules]]
id = "search-latency"
exception = "TimeoutError"
message = '''search answered after'''
"""


def test_a_knowledge_change_at_restart_edits_the_same_check_run(
    database_url: str, suite_reports: SuiteReports, tmp_path: Path
) -> None:
    settings = _app(commit_verdict="check_run")
    with timeline(database_url, suite_reports, **settings) as tl:
        upload(tl, 0, [], GREEN_SHA)
        upload(tl, 1, ["flaky"], RED_SHA)  # a search time-out nobody knows yet
        drain(tl)
        github = tl.github
        (blocked,) = deepcopy(github.check_runs_on(RED_SHA, NAME))
    knowledge = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, knowledge)
    (knowledge / "issues" / "1200-search-latency.toml").write_text(SEARCH_ISSUE)
    github.add_issue(1200, title="Search backend timeouts in staging")
    # The service restarts with the changed knowledge base and re-judges what it stored.
    with timeline(
        database_url, suite_reports, github=github, knowledge_dir=knowledge, **settings
    ) as tl:
        drain(tl)
        (after,) = tl.github.check_runs_on(RED_SHA, NAME)
        (green,) = tl.github.check_runs_on(GREEN_SHA, NAME)
    assert (blocked["conclusion"], blocked["output"]["title"]) == (
        "failure",
        "1 failure: 1 new infrastructure failure",
    )
    assert f"`{SEARCH}`" in blocked["output"]["summary"]
    assert after["id"] == blocked["id"]
    assert (after["conclusion"], after["output"]["title"]) == (
        "neutral",
        "1 failure: 1 known (#1200 \u00d71)",
    )
    assert green["conclusion"] == "success"
