"""Task criteria over HTTP: signed `issues.edited` deliveries of the tracking issue, the issue read
at start, and what GET /api/v1/criteria and the criteria page then say, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import create_engine, select

from bot.store.tables import TaskCheckRow
from bot.web.app import create_app
from tests.core.test_tasklist import PLAN
from tests.github_server import TOKEN, GitHubState
from tests.web.conftest import Db, auth, make_settings, serving, wait_for
from tests.web.webhook_support import done, payload, send

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday of 2026-W49
ALERTS = "Monitoring alerts"


def checked(body: str, phrase: str) -> str:
    return body.replace(f"- [ ] {phrase}", f"- [x] {phrase}")


class Clock:
    now = NOW

    def __call__(self) -> datetime:
        return self.now


def _serve(app: FastAPI, reports: dict[str, bytes]) -> Iterator[httpx.Client]:
    app.state.context.clock = Clock()
    with serving(app) as client:
        upload = client.post(
            "/api/v1/runs",
            params={"suite": "staging", "started_at": "2026-11-17T06:00:00Z"},
            content=reports["json"],
            headers=auth(),
        )
        assert upload.status_code == 201, upload.text
        yield client


@pytest.fixture
def site(database_url: str, reports: dict[str, bytes]) -> Iterator[tuple[httpx.Client, str]]:
    app = create_app(make_settings(database_url))
    for client in _serve(app, reports):
        yield client, database_url


def edit(
    client: httpx.Client, url: str, guid: str, *, old: str | None, new: str, by: str, at: str,
    number: int = 623,
) -> httpx.Response:  # fmt: skip
    """Deliver GitHub's `issues.edited` for a body edit of issue `number`, signed."""
    data: dict[str, Any] = payload("issues_edited")
    if old is None:
        data["changes"] = {"title": {"from": "an older title"}}
    else:
        data["changes"]["body"]["from"] = old
    data["issue"].update(number=number, body=new, updated_at=at)
    data["sender"]["login"] = by
    answer = send(client, "issues", data, guid)
    db = Db(url)
    try:
        wait_for(lambda: done(db, guid))
    finally:
        db.engine.dispose()
    return answer


def task_rows(url: str) -> list[tuple[str, bool, str | None]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            t = TaskCheckRow.__table__  # type: ignore[attr-defined]
            query = select(t.c.criterion, t.c.checked, t.c.by).order_by(t.c.id)
            return [(r.criterion, bool(r.checked), r.by) for r in conn.execute(query)]
    finally:
        engine.dispose()


def verdicts(client: httpx.Client, week: str) -> dict[str, dict[str, Any]]:
    answer = client.get("/api/v1/criteria", params={"suite": "staging", "week": week})
    assert answer.status_code == 200, answer.text
    return {v["id"]: v for v in answer.json()["verdicts"]}


def test_checks_by_edit_are_credited_to_their_editor_at_the_issue_s_update_time(
    site: tuple[httpx.Client, str],
) -> None:
    client, url = site
    alerts_on = checked(PLAN, ALERTS)
    first = edit(client, url, "e1", old=PLAN, new=alerts_on, by="alice", at="2026-11-18T10:00:00Z")
    assert first.status_code == 202
    edit(client, url, "e2", old=alerts_on, new=PLAN, by="bob", at="2026-11-19T11:00:00Z")
    edit(client, url, "e3", old=PLAN, new=alerts_on, by="bob", at="2026-11-20T12:00:00Z")
    # Another issue's edit, even one that checks the same words, is not the tracking issue's.
    other = checked(PLAN, "Documentation updated")
    edit(client, url, "e4", old=PLAN, new=other, by="mallory", at="2026-11-21T09:00:00Z",
         number=1029)  # fmt: skip
    # GitHub redelivers with the same GUID: nothing is recorded twice.
    again = edit(client, url, "e1", old=PLAN, new=alerts_on, by="alice", at="2026-11-18T10:00:00Z")
    assert again.json()["status"] == "duplicate"

    rows = task_rows(url)
    assert [r for r in rows if r[0] == "monitoring-alerts"] == [
        ("monitoring-alerts", True, "alice"),
        ("monitoring-alerts", False, "bob"),
        ("monitoring-alerts", True, "bob"),
    ]
    # The first edit seen also records the items it did not touch, unchecked, by nobody.
    assert sorted(r for r in rows if r[0] != "monitoring-alerts") == [
        ("deployment-confidence", False, None),
        ("docs-fixture-patterns", False, None),
    ]

    w47 = verdicts(client, "2026-W47")
    alerts = w47["monitoring-alerts"]
    assert (alerts["status"], alerts["evidence"]) == ("met", "checked by @bob on 2026-11-20")
    assert alerts["task"]["by"] == "bob"
    assert alerts["task"]["item"] == "Monitoring alerts for staging test health implemented"
    assert alerts["task"]["at"].startswith("2026-11-20T12:00:00")
    assert (w47["docs-fixture-patterns"]["status"], w47["docs-fixture-patterns"]["evidence"]) == (
        "not met",
        "not checked yet",
    )
    assert w47["pass-chat"]["task"] is None  # measured criteria stand beside, unchanged
    # The week before any edit knows of no task item yet.
    w46 = verdicts(client, "2026-W46")["monitoring-alerts"]
    assert w46["status"] == "no data"
    assert w46["task"] is None

    page = client.get("/criteria", params={"suite": "staging", "week": "2026-W47"})
    assert page.status_code == 200
    assert "checked by @bob on 2026-11-20" in page.text
    assert "(task list of the tracking issue)" in page.text


def test_edits_delivered_out_of_order_are_judged_by_their_time(
    site: tuple[httpx.Client, str],
) -> None:
    client, url = site
    alerts_on = checked(PLAN, ALERTS)
    # GitHub does not promise order: bob's later uncheck arrives before alice's check.
    edit(client, url, "o2", old=alerts_on, new=PLAN, by="bob", at="2026-11-19T11:00:00Z")
    edit(client, url, "o1", old=PLAN, new=alerts_on, by="alice", at="2026-11-18T10:00:00Z")
    alerts = verdicts(client, "2026-W47")["monitoring-alerts"]
    assert (alerts["status"], alerts["evidence"]) == ("not met", "unchecked by @bob on 2026-11-19")
    assert [r for r in task_rows(url) if r[0] == "monitoring-alerts"] == [
        ("monitoring-alerts", False, "bob"),
        ("monitoring-alerts", True, "alice"),
    ]


def test_a_title_edit_and_an_edit_by_the_bot_itself(site: tuple[httpx.Client, str]) -> None:
    client, url = site
    # A title edit carries no old body: the body's state is recorded, who checked it unknown.
    done_before = checked(PLAN, "Enterprise deployment confidence")
    edit(client, url, "t1", old=None, new=done_before, by="carol", at="2026-11-18T10:00:00Z")
    # The bot's own edit counts like anyone's.
    alerts_on = checked(done_before, ALERTS)
    edit(client, url, "t2", old=done_before, new=alerts_on, by="triage-bot",
         at="2026-11-19T10:00:00Z")  # fmt: skip
    w47 = verdicts(client, "2026-W47")
    assert w47["deployment-confidence"]["status"] == "met"
    assert w47["deployment-confidence"]["evidence"].startswith("checked, by whom unknown")
    assert w47["monitoring-alerts"]["evidence"] == "checked by @triage-bot on 2026-11-19"


@pytest.fixture
def github_site(
    database_url: str, github: GitHubState, reports: dict[str, bytes]
) -> Iterator[tuple[httpx.Client, FastAPI, GitHubState]]:
    github.add_issue(623, title="Concurrent test failures: remediation plan")
    github.issues[623]["body"] = checked(PLAN, "Enterprise deployment confidence")
    settings = make_settings(
        database_url, github_dry_run=False, github_token=SecretStr(TOKEN),
        github_api_url=github.base_url, github_repository=github.repo,
    )  # fmt: skip
    app = create_app(settings)
    for client in _serve(app, reports):
        yield client, app, github


def test_the_issue_read_knows_checks_made_before_tracking_and_missed_edits(
    github_site: tuple[httpx.Client, FastAPI, GitHubState], database_url: str
) -> None:
    client, app, github = github_site
    app.state.context.refresh_issue_states()  # what the service does at start
    confidence = verdicts(client, "2026-W49")["deployment-confidence"]
    assert (confidence["status"], confidence["evidence"]) == (
        "met",
        "checked before tracking began",
    )
    assert confidence["task"]["by"] is None
    # Someone checks the docs item while no delivery reaches the service; the next read sees it.
    github.issues[623]["body"] = checked(github.issues[623]["body"], "Documentation updated")
    app.state.context.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    app.state.context.refresh_issue_states()
    stored = task_rows(database_url)
    app.state.context.refresh_issue_states()
    assert task_rows(database_url) == stored  # nothing changed since: nothing recorded
    assert stored[-1] == ("docs-fixture-patterns", True, None)
    docs = verdicts(client, "2026-W49")["docs-fixture-patterns"]
    assert docs["status"] == "met"
    assert docs["evidence"] == (
        "checked, by whom unknown (the edit was not seen), first seen on 2026-12-01"
    )
