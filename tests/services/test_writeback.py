"""Write-back end to end: stored runs -> comment policy -> outbox -> fake GitHub over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.comment_policy import PolicyConfig
from bot.core.intents import marker
from bot.ports.store import IssueState
from bot.services.writeback import plan_after_ingest, plan_lifecycle
from bot.store.known_issues import SqlIssueStates
from bot.store.outbox_repository import OutboxRepository
from bot.store.tables import Cluster, FailureRow, KnownIssueState, ManualLink, Run
from bot.store.writeback import SqlWritebackHistory
from tests.github.conftest import gateway_for
from tests.github.outbox_helpers import FakeClock, sender
from tests.github_server import GitHubState, assert_rest_contract, running_github

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def github() -> Iterator[GitHubState]:
    with running_github() as state:
        for number in (5, 6):
            state.add_issue(number)
        yield state
        assert_rest_contract(state.requests)  # every request the test made


def _ingest(engine: Engine, at: datetime, issues: dict[int, int], config: PolicyConfig) -> int:
    """Store a run with `issues[n]` failures linked to issue n, then plan its write-backs."""
    with Session(engine) as session:
        run = Run(
            suite="e2e",
            started_at=at,
            format="pytest-json-report",
            ingested_at=at,
            counts={"failed": sum(issues.values())},
            report_digest=f"d{at.timestamp()}",
            branch="main",
            commit="cafebabe1234",
            ci_url=f"https://ci.test/{int(at.timestamp())}",
        )
        session.add(run)
        session.flush()
        assert run.id is not None
        for issue, count in issues.items():
            for n in range(count):
                session.add(
                    FailureRow(
                        run_id=run.id,
                        suite="e2e",
                        started_at=at,
                        nodeid=f"t.py::test_{issue}_{n}",
                        phase="call",
                        outcome="failed",
                        fingerprint=f"fp{issue}",
                        signature_version=1,
                        known_issue=issue,
                        rule=f"i{issue}#r",
                        classification="known",
                        category="product",
                    )
                )
        session.flush()
        plan_after_ingest(
            SqlWritebackHistory(session),
            OutboxRepository(session),
            run_id=run.id,
            issues=set(issues),
            now=at,
            config=config,
            states=SqlIssueStates(session),
        )
        session.commit()
        return run.id


def test_runs_become_one_edited_comment_plus_event_comments(
    engine: Engine, github: GitHubState
) -> None:
    config = PolicyConfig()
    gateway = gateway_for(github)
    clock = FakeClock(now=START)
    send = sender(engine, gateway, clock)
    _ingest(engine, START, {5: 1}, config)  # first occurrence: the new summary announces it
    send.drain()
    assert [r.method for r in github.writes()] == ["POST"]
    assert "First failure linked to #5" in github.comments_on(5)[0]["body"]
    _ingest(engine, START + timedelta(hours=2), {5: 1}, config)  # ordinary: edit only
    send.drain()
    assert [r.method for r in github.writes()][1:] == ["PATCH"]
    _ingest(engine, START + timedelta(days=10), {5: 2}, config)  # after a quiet period
    send.drain()
    methods = [r.method for r in github.writes()][2:]
    assert sorted(methods) == ["PATCH", "POST"]
    comments = github.comments_on(5)
    summaries = [c for c in comments if marker("occurrences") in c["body"]]
    assert len(summaries) == 1
    assert "**4** failures in **3** runs" in summaries[0]["body"]
    assert "Back after 9 days" in comments[-1]["body"]
    for request in github.writes():
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert set(request.json) == {"body"}


def test_budget_rolls_events_into_the_summary_and_closed_issue_is_reopened(
    engine: Engine, github: GitHubState
) -> None:
    config = PolicyConfig(daily_budget=1, reopen_on_recurrence=True)
    with Session(engine) as session:
        session.add(KnownIssueState(number=6, state="closed", updated_at=START - timedelta(days=1)))
        session.commit()
    github.issues[6]["state"] = "closed"
    _ingest(engine, START, {6: 1}, config)  # recurred (and first): one event, reopen
    with Session(engine) as session:  # the bot's own reopen is its stored state at once
        state = session.get(KnownIssueState, 6)
        assert state is not None
        assert state.state == "open"
    _ingest(engine, START + timedelta(hours=1), {6: 1}, config)  # no second recurrence
    with Session(engine) as session:  # someone closes it again the same day
        SqlIssueStates(session).set(
            state=IssueState(6, "closed", "", None, START + timedelta(hours=1, minutes=30))
        )
        session.commit()
    _ingest(engine, START + timedelta(hours=2), {6: 6}, config)  # recurred again, over budget
    sender(engine, gateway_for(github), FakeClock(now=START)).drain()
    events = [c for c in github.comments_on(6) if marker("occurrences") not in c["body"]]
    assert len(events) == 1  # budget of one a day
    assert github.issues[6]["state"] == "open"
    (summary,) = [c for c in github.comments_on(6) if marker("occurrences") in c["body"]]
    assert "over the day's comment budget" in summary["body"]
    # Superseded edits coalesced into the one POST; the issue was reopened after each closing.
    edits = [r for r in github.writes() if r.method == "PATCH" and "/comments/" in r.path]
    assert edits == []
    reopens = [
        r.json for r in github.writes() if r.method == "PATCH" and "/comments/" not in r.path
    ]
    assert reopens == [{"state": "open", "state_reason": "reopened"}] * 2


def test_stale_notice_once_and_new_issue_filed_once(engine: Engine, github: GitHubState) -> None:
    config = PolicyConfig(file_new_issues=True, new_issue_min_runs=3)
    _ingest(engine, START, {5: 1}, config)
    with Session(engine) as session:
        session.add(
            Cluster(
                fingerprint="f00d",
                suite="e2e",
                first_seen=START,
                last_seen=START,
                count=7,
                runs=4,
                exception="OSError",
                example_nodeid="t.py::test_io",
                example_message="OSError: disk full",
                suggested_rule="[[rules]]",
            )
        )
        session.commit()
    _ingest(engine, START + timedelta(hours=1), {5: 1}, config)
    _ingest(engine, START + timedelta(hours=2), {5: 1}, config)
    later = START + timedelta(days=20)
    _ingest(engine, later, {}, config)  # the suite still runs, without the failure
    for _ in range(2):
        with Session(engine) as session:
            plan_lifecycle(
                SqlWritebackHistory(session), OutboxRepository(session), now=later, config=config
            )
            session.commit()
    sender(engine, gateway_for(github), FakeClock(now=later)).drain()
    filed = [n for n, i in github.issues.items() if n not in (5, 6)]
    assert len(filed) == 1
    assert marker("fingerprint:f00d") in github.issues[filed[0]]["body"]
    stale = [c for c in github.comments_on(5) if "maybe fixed" in c["body"]]
    assert len(stale) == 1
    assert "consider closing" in stale[0]["body"]


def _cluster(fp: str, nodeid: str, runs: int) -> Cluster:
    return Cluster(
        fingerprint=fp, suite="e2e", first_seen=START, last_seen=START, count=runs,
        runs=runs, exception="OSError", example_nodeid=nodeid,
        example_message="OSError: disk full", suggested_rule="[[rules]]",
    )  # fmt: skip


def test_auto_filing_skips_flaky_tests_covered_clusters_and_filed_ones(
    engine: Engine, github: GitHubState
) -> None:
    config = PolicyConfig(file_new_issues=True, new_issue_min_runs=3)
    run_id = _ingest(engine, START, {5: 1}, config)
    with Session(engine) as session:
        session.add_all(
            [
                _cluster("flaky", "t.py::test_flaky", 9),  # the biggest, but a flaky test
                _cluster("linked", "t.py::test_linked", 8),  # a /triage link covers it
                _cluster("ruled", "t.py::test_ruled", 7),  # a rule now matches its failures
                _cluster("clean", "t.py::test_clean", 4),
            ]
        )
        session.add(
            FailureRow(
                run_id=run_id, suite="e2e", started_at=START, nodeid="t.py::test_flaky",
                phase="call", outcome="flaky", fingerprint="", signature_version=1,
                known_issue=None, rule=None, classification="flaky", category="product",
            )
        )  # a pass on rerun: the test is flaky  # fmt: skip
        session.add(
            ManualLink(issue=6, kind="fingerprint", pattern="linked", created_by="mona", at=START)
        )
        session.add(
            FailureRow(
                run_id=run_id, suite="e2e", started_at=START, nodeid="t.py::test_ruled",
                phase="call", outcome="failed", fingerprint="ruled", signature_version=1,
                known_issue=6, rule="i6#r", classification="known", category="product",
            )
        )  # fmt: skip
        session.commit()
    for hours in (1, 2):  # the second run finds it filed already
        _ingest(engine, START + timedelta(hours=hours), {5: 1}, config)
    sender(engine, gateway_for(github), FakeClock(now=START)).drain()
    filed = [i for n, i in github.issues.items() if n not in (5, 6)]
    assert len(filed) == 1
    assert marker("fingerprint:clean") in filed[0]["body"]
