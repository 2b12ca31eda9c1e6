"""The timeline harness: the real app over HTTP, a stateful fake GitHub, a controllable clock.

Runs are uploaded through POST /api/v1/runs with their own started_at, issue events arrive as
signed webhooks, the outbox is drained by a sender the test drives, and what GitHub received
is read back per issue: each new comment and each edit, in order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from bot.web.app import create_app
from tests.github.conftest import gateway_for
from tests.github.outbox_helpers import FakeClock, sender
from tests.github_server import TOKEN, GitHubState, running_github
from tests.timeline.suite import SuiteReports
from tests.web.conftest import Db, auth, make_settings, serving, wait_for
from tests.web.webhook_support import payload, send

SUITE = "staging"
TITLES = {623: "Fixture 'real_services' not found", 1029: "Redis connection failures in staging"}
START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # a Tuesday; runs start at 06:00 UTC
_COMMENT = re.compile(r"/issues/comments/(\d+)$")
_ISSUE_COMMENTS = re.compile(r"/issues/(\d+)/comments$")
_ISSUE = re.compile(r"/issues/(\d+)$")


@dataclass
class Clock:
    """The app's one clock; the timeline moves it."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Write:
    """One write GitHub received: a new comment, an edit of one, or an issue state change."""

    kind: str  # post, edit or state
    issue: int
    body: str


@dataclass
class Timeline:
    http: httpx.Client
    github: GitHubState
    clock: Clock
    reports: SuiteReports
    db: Db
    seen: int = 0  # writes already returned by new_writes()
    deliveries: int = 0
    uploads: list[int] = field(default_factory=list)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # webhook payloads by GUID

    def day(self, n: int, hour: int = 0) -> datetime:
        """The start of the n-th run day (day 0 is START)."""
        return START + timedelta(days=n, hours=hour)

    def run(
        self, at: datetime, failures: Iterable[str] = (), *, uploaded: datetime | None = None
    ) -> dict[str, Any]:
        """Upload the suite's run started at `at`; by default it arrives ten minutes later."""
        self.clock.now = uploaded or at + timedelta(minutes=10)
        body = self.reports.dated(frozenset(failures), at)
        answer = self.http.post(
            "/api/v1/runs",
            params={"suite": SUITE, "started_at": at.isoformat()},
            content=body,
            headers=auth(),
        )
        assert answer.status_code in (200, 201), answer.text
        data: dict[str, Any] = answer.json()
        self.uploads.append(int(data["run_id"]))
        return data

    def daily(self, days: Iterable[int], failures: Iterable[str] = (), **kw: Any) -> None:
        """Upload one run a day on each of `days`, draining after each (a live service)."""
        wanted = tuple(failures)
        for n in days:
            self.run(self.day(n), wanted, **kw)
            self.drain()

    def drain(self) -> int:
        """Send everything the outbox holds, deterministically, in this thread."""
        assert self.db.engine is not None
        out = sender(self.db.engine, gateway_for(self.github), FakeClock(now=self.clock.now))
        return out.drain()

    def issue_event(self, number: int, action: str, *, at: datetime, delivery: str = "") -> str:
        """Change an issue on GitHub (as a person would) and deliver its signed webhook."""
        issue = self.github.issues[number]
        issue["state"] = "closed" if action == "closed" else "open"
        issue["closed_at"] = _iso(at) if action == "closed" else None
        issue["updated_at"] = _iso(at)
        self.clock.now = at
        data = payload(f"issues_{action}")
        data.pop("installation", None)  # a token-installed service, not an App
        data["issue"].update(issue)
        data["repository"]["full_name"] = self.github.repo
        self.deliveries += 1
        guid = delivery or f"delivery-{self.deliveries}"
        self.sent[guid] = data
        self.redeliver(data, guid)
        return guid

    def redeliver(self, data: dict[str, Any], guid: str) -> None:
        answer = send(self.http, "issues", data, guid)
        assert answer.status_code in (200, 202), answer.text
        wait_for(lambda: _finished(self.db, guid))

    def writes(self) -> list[Write]:
        """Every write GitHub received, in order."""
        found = []
        for request in self.github.writes():
            path, body = request.path, request.json or {}
            if request.method == "POST" and (m := _ISSUE_COMMENTS.search(path)):
                found.append(Write("post", int(m[1]), body["body"]))
            elif request.method == "PATCH" and (m := _COMMENT.search(path)):
                issue = self.github.comments[int(m[1])]["issue"]
                found.append(Write("edit", issue, body["body"]))
            elif request.method == "PATCH" and (m := _ISSUE.search(path)):
                found.append(Write("state", int(m[1]), json.dumps(body, sort_keys=True)))
            else:
                found.append(Write(request.method.lower(), 0, path))
        return found

    def new_writes(self) -> list[Write]:
        """The writes since the last call."""
        everything = self.writes()
        fresh, self.seen = everything[self.seen :], len(everything)
        return fresh

    def objective(self) -> dict[str, Any]:
        answer = self.http.get("/api/v1/objective", params={"suite": SUITE})
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data


def summary(writes: Iterable[Write]) -> list[tuple[str, int, str]]:
    """(kind, issue, first line) per write: what a person watching the issues saw."""
    return [(w.kind, w.issue, w.body.splitlines()[0] if w.body else "") for w in writes]


def _finished(db: Db, guid: str) -> bool:
    row = db.delivery(guid)
    return row is not None and row.status in {"done", "failed", "ignored"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def timeline(
    database_url: str,
    reports: SuiteReports,
    *,
    github: GitHubState | None = None,
    **settings: Any,
) -> Iterator[Timeline]:
    """Serve the real app against a fake GitHub holding #623 and #1029, both open.

    Pass the `github` of an earlier timeline (and the same database) to restart the service.
    """
    state = github
    if state is None:
        state = GitHubState(repo="acme/staging")
        for number, title in TITLES.items():
            state.add_issue(number, title=title)
    with running_github(state) as fake:
        values: dict[str, Any] = {
            "github_dry_run": False,
            "github_token": SecretStr(TOKEN),
            "github_api_url": fake.base_url,
            "github_repository": fake.repo,
            "outbox_sender_enabled": False,  # the test drains the outbox itself
            "scheduler_enabled": False,
            **settings,
        }
        app = create_app(make_settings(database_url, **values))
        clock = Clock()
        app.state.context.clock = clock
        db = Db(database_url)
        try:
            with serving(app) as http:
                # The scheduler's first run of the refresh job, at start (the scheduler is
                # off here: its weekly catch-up would post reports).
                app.state.context.refresh_issue_states()
                yield Timeline(http, fake, clock, reports, db)
        finally:
            db.engine.dispose()
