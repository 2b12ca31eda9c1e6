"""The webhook service against hand-written fakes: dispatch, permissions, retries."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from bot.core.errors import TriageError
from bot.core.intents import PostComment
from bot.core.webhook import Command, LinkCommand, StatusCommand, parse_event
from bot.ports import ArtifactInfo, CommentRef, GitHubError, GitHubGateway
from bot.services.webhook_ports import IngestRequest, WebhookConfig
from bot.services.webhooks import process_delivery, process_pending, wants
from bot.store.deliveries import Claimed

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
CONFIG = WebhookConfig(workflow_names=("staging-e2e",), bot_login="triage-bot")


# The smallest pytest-json-report the readers accept: artifacts are picked by content.
REPORT = b'{"created": 1, "exitcode": 0, "tests": [{"nodeid": "t.py::t", "outcome": "passed"}]}'


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Gateway:
    roles: dict[str, str] = field(default_factory=dict)
    artifacts: dict[int, tuple[str, bytes, bool]] = field(default_factory=dict)
    fail_listing: int = 0

    def list_run_artifacts(self, run_id: int) -> list[ArtifactInfo]:
        if self.fail_listing:
            self.fail_listing -= 1
            raise ConnectionError("github is down")
        return [ArtifactInfo(i, n, len(d), e) for i, (n, d, e) in self.artifacts.items()]

    def download_artifact(self, artifact_id: int, *, max_bytes: int) -> bytes:
        return self.artifacts[artifact_id][1]

    def permission(self, username: str) -> str:
        return self.roles.get(username, "none")

    def create_comment(self, issue: int, body: str) -> CommentRef:
        raise AssertionError("the webhook service writes through the outbox only")

    def edit_comment(self, comment_id: int, body: str) -> None:
        raise AssertionError("the webhook service writes through the outbox only")

    def list_comments(self, issue: int, *, since: datetime | None = None) -> list[CommentRef]:
        return []

    def set_issue_state(self, issue: int, state: str, reason: str | None) -> None:
        raise AssertionError("not used")

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> int:
        raise AssertionError("not used")

    def bot_login(self) -> str:
        return "triage-bot"


@dataclass
class Actions:
    gateway: Gateway = field(default_factory=Gateway)
    ingested: list[IngestRequest] = field(default_factory=list)
    states: list[tuple[int, str, str | None]] = field(default_factory=list)
    commands: list[tuple[Command, int, str]] = field(default_factory=list)
    replies: list[PostComment] = field(default_factory=list)
    known: frozenset[int] = frozenset({7})

    def github(self) -> GitHubGateway:
        return self.gateway

    def ingest(self, request: IngestRequest, *, now: datetime) -> str:
        self.ingested.append(request)
        return "run 1 created"

    def set_issue_state(self, *, issue: int, state: str, reason: str | None, now: datetime) -> bool:
        self.states.append((issue, state, reason))
        return issue in self.known

    def execute(self, command: Command, *, issue: int, user: str, now: datetime) -> str:
        self.commands.append((command, issue, user))
        return "done."

    def reply(self, intent: PostComment, *, now: datetime) -> None:
        self.replies.append(intent)


@dataclass
class Store:
    rows: dict[str, dict[str, object]] = field(default_factory=dict)

    def record(
        self,
        *,
        guid: str,
        event: str,
        action: str,
        payload: bytes | None,
        status: str,
        now: datetime,
    ) -> bool:
        if guid in self.rows:
            return False
        self.rows[guid] = {"event": event, "payload": payload, "status": status, "attempts": 0}
        return True

    def claim(
        self, *, guid: str, now: datetime, stale_before: datetime | None = None
    ) -> Claimed | None:
        row = self.rows.get(guid)
        stuck = row is not None and row["status"] == "processing" and stale_before is not None
        if row is None or (row["status"] != "pending" and not stuck):
            return None
        row["status"] = "processing"
        row["attempts"] = int(row["attempts"]) + 1  # type: ignore[call-overload]
        return Claimed(guid, str(row["event"]), row["payload"], int(row["attempts"]))  # type: ignore[arg-type, call-overload]

    def finish(self, *, guid: str, status: str, outcome: str, now: datetime) -> None:
        self.rows[guid].update(status=status, outcome=outcome, payload=None)

    def release(self, *, guid: str, outcome: str, now: datetime) -> None:
        self.rows[guid].update(status="pending", outcome=outcome)

    def pending(
        self, *, limit: int, before: datetime | None = None, stuck_before: datetime | None = None
    ) -> list[str]:
        waiting = {"pending", "processing"} if stuck_before else {"pending"}
        return [g for g, r in self.rows.items() if r["status"] in waiting][:limit]


def workflow_run(name: str = "staging-e2e", action: str = "completed") -> bytes:
    run = {
        "id": 555,
        "name": name,
        "head_branch": "main",
        "head_sha": "a" * 40,
        "html_url": "https://github.com/acme/widgets/actions/runs/555",
        "run_started_at": "2026-11-20T08:00:00Z",
        "conclusion": "failure",
    }
    return json.dumps({"action": action, "workflow_run": run}).encode()


def comment(body: str, login: str = "alice", kind: str = "User") -> bytes:
    return json.dumps(
        {
            "action": "created",
            "issue": {"number": 7},
            "comment": {"id": 42, "body": body, "user": {"login": login, "type": kind}},
        }
    ).encode()


def run(store: Store, actions: Actions, event: str, payload: bytes, guid: str = "g1") -> str | None:
    store.record(guid=guid, event=event, action="", payload=payload, status="pending", now=NOW)
    return process_delivery(guid, store=store, actions=actions, config=CONFIG, clock=lambda: NOW)


def test_workflow_run_ingests_the_preferred_report_with_run_metadata() -> None:
    actions, store = Actions(), Store()
    report = REPORT
    actions.gateway.artifacts = {
        1: ("screenshots", zip_of({"a.png": b"\x89PNG"}), False),
        2: ("old-report", zip_of({"report.json": b"{}"}), True),
        3: ("report", zip_of({"junit.xml": b"<testsuites/>", "report.json": report}), False),
    }
    outcome = run(store, actions, "workflow_run", workflow_run())
    assert outcome == "run 1 created from report/report.json"
    (request,) = actions.ingested
    assert request.data == report
    assert (request.suite, request.branch, request.commit) == ("staging-e2e", "main", "a" * 40)
    assert request.ci_url == "https://github.com/acme/widgets/actions/runs/555"
    assert request.started_at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert store.rows["g1"]["status"] == "done"
    assert store.rows["g1"]["payload"] is None


def test_other_workflows_and_actions_are_ignored() -> None:
    for payload in (workflow_run(name="lint"), workflow_run(action="requested")):
        store, actions = Store(), Actions()
        run(store, actions, "workflow_run", payload)
        assert store.rows["g1"]["status"] == "ignored"
        assert actions.ingested == []


def test_zip_slip_artifact_fails_the_delivery_without_ingesting() -> None:
    actions, store = Actions(), Store()
    actions.gateway.artifacts = {1: ("report", zip_of({"../../etc/report.json": b"{}"}), False)}
    outcome = run(store, actions, "workflow_run", workflow_run())
    assert outcome is not None
    assert outcome.startswith("unsafe_artifact")
    assert store.rows["g1"]["status"] == "failed"
    assert actions.ingested == []


def test_transient_errors_stay_pending_and_are_retried() -> None:
    actions, store = Actions(), Store()
    actions.gateway.artifacts = {1: ("report", zip_of({"report.json": REPORT}), False)}
    actions.gateway.fail_listing = 1
    assert run(store, actions, "workflow_run", workflow_run()) is None
    assert store.rows["g1"]["status"] == "pending"
    assert process_pending(store=store, actions=actions, config=CONFIG, clock=lambda: NOW) == 1
    assert store.rows["g1"]["status"] == "done"
    assert len(actions.ingested) == 1


def test_repeated_errors_give_up() -> None:
    actions, store = Actions(), Store()
    actions.gateway.fail_listing = 10
    run(store, actions, "workflow_run", workflow_run())
    for _ in range(5):
        process_pending(store=store, actions=actions, config=CONFIG, clock=lambda: NOW)
    assert store.rows["g1"]["status"] == "failed"
    assert store.rows["g1"]["attempts"] == CONFIG.max_attempts


def test_issue_state_is_stored() -> None:
    actions, store = Actions(), Store()
    body = {
        "action": "closed",
        "issue": {"number": 7, "state": "closed", "state_reason": "completed"},
    }
    assert run(store, actions, "issues", json.dumps(body).encode()) == "issue #7 closed: stored"
    assert actions.states == [(7, "closed", "completed")]


def test_command_from_writer_runs_and_replies_once_per_comment() -> None:
    actions, store = Actions(), Store()
    actions.gateway.roles = {"alice": "maintain"}
    run(store, actions, "issue_comment", comment("/triage link tests/a.py::*"))
    assert actions.commands == [(LinkCommand("tests/a.py::*"), 7, "alice")]
    assert actions.replies == [PostComment(7, "@alice done.", "triage-reply-42")]


@pytest.mark.parametrize("role", ["read", "triage", "none"])
def test_command_from_reader_is_refused(role: str) -> None:
    actions, store = Actions(), Store()
    actions.gateway.roles = {"alice": role}
    assert (
        run(store, actions, "issue_comment", comment("/triage status")) == f"refused alice ({role})"
    )
    assert actions.commands == []
    assert "need write access" in actions.replies[0].body


def test_bad_command_gets_usage_reply() -> None:
    actions, store = Actions(), Store()
    actions.gateway.roles = {"alice": "admin"}
    run(store, actions, "issue_comment", comment("/triage frobnicate"))
    assert actions.commands == []
    assert "Usage" in actions.replies[0].body


@pytest.mark.parametrize(("login", "kind"), [("triage-bot", "User"), ("triage-bot[bot]", "Bot")])
def test_own_comments_are_ignored(login: str, kind: str) -> None:
    actions, store = Actions(), Store()
    actions.gateway.roles = {login: "admin"}
    run(store, actions, "issue_comment", comment("/triage status", login=login, kind=kind))
    assert actions.commands == []
    assert actions.replies == []


def test_wants_is_cheap_and_selective() -> None:
    assert wants(parse_event("issue_comment", comment("/triage status")), CONFIG)
    assert not wants(parse_event("issue_comment", comment("thanks")), CONFIG)
    assert not wants(parse_event("issue_comment", comment("/triage status", "triage-bot")), CONFIG)
    assert not wants(None, CONFIG)
    assert StatusCommand() == StatusCommand()


def test_triage_error_from_an_action_fails_the_delivery() -> None:
    class Failing(Actions):
        def ingest(self, request: IngestRequest, *, now: datetime) -> str:
            raise TriageError("bad_report", "not a report")

    actions, store = Failing(), Store()
    actions.gateway.artifacts = {1: ("report", zip_of({"report.json": REPORT}), False)}
    assert (
        run(store, actions, "workflow_run", workflow_run())
        == "bad_report: not a report (attempt 1)"
    )
    assert store.rows["g1"]["status"] == "failed"


@pytest.mark.parametrize(("transient", "status"), [(True, "pending"), (False, "failed")])
def test_github_errors_retry_only_when_transient(transient: bool, status: str) -> None:
    class Flaky(Actions):
        def github(self) -> GitHubGateway:
            raise GitHubError(
                "github_error", "GitHub answered 502", status=502, transient=transient
            )

    actions, store = Flaky(), Store()
    run(store, actions, "workflow_run", workflow_run())
    assert store.rows["g1"]["status"] == status
