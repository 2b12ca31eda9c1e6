"""The webhook service on real SQLite with a hand-written GitHub fake: dispatch, one commit."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event
from sqlmodel import select

from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.core.knowledge import load_knowledge
from bot.core.webhook import StatusCommand, WebhookError, parse_event
from bot.ports.github import ArtifactInfo, CommentRef, GitHubError, GitHubGateway
from bot.services.ingest import IngestOptions
from bot.services.webhook_context import WebhookConfig, WebhookPorts
from bot.services.webhook_registry import registry
from bot.services.webhooks import (
    Delivery,
    Received,
    process_delivery,
    process_pending,
    process_received,
    receive,
    wants,
)
from bot.store.deliveries import EngineDeliveryStore
from bot.store.tables import OutboxRow, WebhookDelivery
from bot.store.uow import SqlUnitOfWork

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
LATER = NOW + timedelta(minutes=1)  # the retry loop takes rows last touched before now
CONFIG = WebhookConfig(workflow_names=("staging-e2e",), bot_login="triage-bot")
KB = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
KNOWN = min(KB.issues)  # a known issue of the shipped knowledge base


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


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests run on SQLite only."""
    return sqlite_url


@dataclass
class World:
    """Real SQLite, the shipped knowledge base, a fake GitHub; counts commits."""

    engine: Engine
    gateway: Gateway = field(default_factory=Gateway)
    commits: int = 0
    options: IngestOptions = field(default_factory=IngestOptions)

    def ports(self, gateway: GitHubGateway | None = None) -> WebhookPorts:
        fixed = gateway or self.gateway
        return WebhookPorts(
            uow=lambda: SqlUnitOfWork(self.engine),
            github=lambda _installation: fixed,
            kb=KB,
            config=CONFIG,
            ingest_options=self.options,
        )

    def row(self, guid: str = "g1") -> WebhookDelivery:
        with SqlUnitOfWork(self.engine, write=False) as uow:
            found = uow.deliveries.get(guid=guid)
            assert found is not None
            uow.session.expunge(found)  # keep its loaded fields past the session
        return found

    def replies(self) -> list[str]:
        with SqlUnitOfWork(self.engine, write=False) as uow:
            return [str(r.payload["body"]) for r in uow.session.exec(select(OutboxRow))]


@pytest.fixture
def world(engine: Engine) -> World:
    made = World(engine)

    @event.listens_for(engine, "commit")
    def _count(_conn: object) -> None:
        made.commits += 1

    return made


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


def comment(body: str, login: str = "alice", kind: str = "User", issue: int = KNOWN) -> bytes:
    return json.dumps(
        {
            "action": "created",
            "issue": {"number": issue},
            "comment": {"id": 42, "body": body, "user": {"login": login, "type": kind}},
        }
    ).encode()


def run(world: World, event: str, payload: bytes, guid: str = "g1", **kw: object) -> str | None:
    """Store a delivery as waiting, then process it as the retry loop would."""
    with SqlUnitOfWork(world.engine) as uow:
        uow.deliveries.record(
            guid=guid, event=event, action="", payload=payload, status="pending", now=NOW
        )
        uow.commit()
    ports = world.ports(**kw)  # type: ignore[arg-type]
    return process_delivery(guid, ports=ports, clock=lambda: NOW)


def test_workflow_run_ingests_the_preferred_report_with_run_metadata(world: World) -> None:
    world.gateway.artifacts = {
        1: ("screenshots", zip_of({"a.png": b"\x89PNG"}), False),
        2: ("old-report", zip_of({"report.json": b"{}"}), True),
        3: ("report", zip_of({"junit.xml": b"<testsuites/>", "report.json": REPORT}), False),
    }
    outcome = run(world, "workflow_run", workflow_run())
    assert outcome == "run 1 created from report/report.json"
    with SqlUnitOfWork(world.engine, write=False) as uow:
        stored = uow.runs.get(run_id=1)
    assert stored is not None
    meta = stored.run
    assert (meta.suite, meta.branch, meta.commit) == ("staging-e2e", "main", "a" * 40)
    assert meta.ci_url == "https://github.com/acme/widgets/actions/runs/555"
    assert meta.started_at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert world.row().status == "done"
    assert world.row().payload is None


def test_other_workflows_and_actions_are_ignored(world: World) -> None:
    for guid, payload in (
        ("a", workflow_run(name="lint")),
        ("b", workflow_run(action="requested")),
    ):
        run(world, "workflow_run", payload, guid=guid)
        assert world.row(guid).status == "ignored"
    with SqlUnitOfWork(world.engine, write=False) as uow:
        assert uow.runs.get(run_id=1) is None


def test_zip_slip_artifact_fails_the_delivery_without_ingesting(world: World) -> None:
    world.gateway.artifacts = {1: ("report", zip_of({"../../etc/report.json": b"{}"}), False)}
    outcome = run(world, "workflow_run", workflow_run())
    assert outcome is not None
    assert outcome.startswith("unsafe_artifact")
    assert world.row().status == "failed"


def test_transient_errors_stay_pending_and_are_retried(world: World) -> None:
    world.gateway.artifacts = {1: ("report", zip_of({"report.json": REPORT}), False)}
    world.gateway.fail_listing = 1
    assert run(world, "workflow_run", workflow_run()) is None
    assert world.row().status == "pending"
    assert process_pending(ports=world.ports(), clock=lambda: LATER) == 1
    assert world.row().status == "done"
    assert world.row().outcome == "run 1 created from report/report.json"


def test_repeated_errors_give_up(world: World) -> None:
    world.gateway.fail_listing = 10
    run(world, "workflow_run", workflow_run())
    for day in range(1, 6):
        later = NOW + timedelta(days=day)  # each pass comes after the last attempt
        process_pending(ports=world.ports(), clock=lambda t=later: t)
    assert world.row().status == "failed"
    assert world.row().attempts == CONFIG.max_attempts


def _issue_event(number: int = KNOWN, action: str = "closed") -> bytes:
    state = "closed" if action == "closed" else "open"
    body = {"action": action, "issue": {"number": number, "state": state, "state_reason": None}}
    if state == "closed":
        body["issue"]["state_reason"] = "completed"  # type: ignore[index]
    return json.dumps(body).encode()


def test_issue_state_is_stored(world: World) -> None:
    assert run(world, "issues", _issue_event()) == f"issue #{KNOWN} closed: stored"
    with SqlUnitOfWork(world.engine, write=False) as uow:
        states = [(s.number, s.state, s.state_reason) for s in uow.issues.all()]
    assert states == [(KNOWN, "closed", "completed")]


def test_an_issue_event_is_stored_and_handled_in_one_commit(world: World) -> None:
    delivery = Delivery("g1", "issues", "closed", _issue_event())
    world.commits = 0
    assert receive(world.ports(), delivery, now=NOW).status == "accepted"
    assert world.commits == 1
    assert world.row().status == "done"
    assert world.row().outcome == f"issue #{KNOWN} closed: stored"
    # The same GUID again writes nothing, not even the issue state of another payload.
    again = Delivery("g1", "issues", "reopened", _issue_event(action="reopened"))
    assert receive(world.ports(), again, now=NOW).status == "duplicate"
    with SqlUnitOfWork(world.engine, write=False) as uow:
        assert [s.state for s in uow.issues.all()] == ["closed"]


def test_an_ignored_delivery_costs_one_commit(world: World) -> None:
    world.commits = 0
    delivery = Delivery("g1", "workflow_run", "requested", workflow_run(action="requested"))
    assert receive(world.ports(), delivery, now=NOW).status == "ignored"
    assert world.commits == 1
    assert world.row().payload is None


def test_deliveries_with_no_other_write_skip_the_unit_of_work(world: World) -> None:
    def no_unit_of_work() -> SqlUnitOfWork:
        raise AssertionError("an ignored, failed or claimed delivery needs no unit of work")

    ports = replace(world.ports(), uow=no_unit_of_work, recorder=EngineDeliveryStore(world.engine))
    world.commits = 0
    ignored = Delivery("g1", "workflow_run", "", workflow_run(action="requested"))
    assert receive(ports, ignored, now=NOW).status == "ignored"
    assert world.commits == 1
    assert (world.row("g1").status, world.row("g1").action) == ("ignored", "requested")
    assert receive(ports, ignored, now=NOW).status == "duplicate"
    claimed = Delivery("g2", "workflow_run", "", workflow_run())
    assert receive(ports, claimed, now=NOW) == Received("accepted", process=True)
    assert (world.row("g2").status, world.row("g2").attempts) == ("processing", 1)
    assert world.row("g2").payload == workflow_run()
    with pytest.raises(WebhookError):
        receive(ports, Delivery("g3", "issues", "", b"[1]"), now=NOW)
    assert world.row("g3").status == "failed"
    assert world.commits == 4  # one each, the duplicate's empty one included


def test_command_from_writer_runs_and_replies_in_one_commit(world: World) -> None:
    world.gateway.roles = {"alice": "maintain"}
    delivery = Delivery("g1", "issue_comment", "created", comment("/triage link tests/a.py::*"))
    received = receive(world.ports(), delivery, now=NOW)
    assert received.process
    assert process_delivery("g1", ports=world.ports(), clock=lambda: NOW) is None  # claimed
    world.commits = 0

    assert (
        process_received(world.ports(), delivery, clock=lambda: NOW) == "ran LinkCommand for alice"
    )
    assert world.commits == 1  # the link, its reply and the delivery's status together
    assert world.replies() == [
        f"@alice linked glob `tests/a.py::*` to #{KNOWN}. Re-judged 0 stored failures."
    ]
    assert world.row().status == "done"


@pytest.mark.parametrize("role", ["read", "triage", "none"])
def test_command_from_reader_is_refused(world: World, role: str) -> None:
    world.gateway.roles = {"alice": role}
    assert run(world, "issue_comment", comment("/triage status")) == f"refused alice ({role})"
    (reply,) = world.replies()
    assert "need write access" in reply


def test_bad_command_gets_usage_reply(world: World) -> None:
    world.gateway.roles = {"alice": "admin"}
    run(world, "issue_comment", comment("/triage frobnicate"))
    (reply,) = world.replies()
    assert "Usage" in reply


def test_a_refused_command_still_replies_and_applies_nothing(world: World) -> None:
    world.gateway.roles = {"alice": "admin"}
    outcome = run(world, "issue_comment", comment("/triage wrong 999 tests/a.py::t"))
    assert outcome is not None
    assert outcome.startswith("command refused")
    assert len(world.replies()) == 1
    assert world.row().status == "done"


@pytest.mark.parametrize(("login", "kind"), [("triage-bot", "User"), ("triage-bot[bot]", "Bot")])
def test_own_comments_are_ignored(world: World, login: str, kind: str) -> None:
    world.gateway.roles = {login: "admin"}
    run(world, "issue_comment", comment("/triage status", login=login, kind=kind))
    assert world.replies() == []


def test_wants_is_cheap_and_selective() -> None:
    def wanted(body: bytes) -> bool:
        return wants("issue_comment", parse_event("issue_comment", body), CONFIG)

    assert wanted(comment("/triage status"))
    assert not wanted(comment("thanks"))
    assert not wanted(comment("/triage status", "triage-bot"))
    assert not wants("push", None, CONFIG)
    assert registry.events() == {"issue_comment", "issues", "workflow_run"}
    assert StatusCommand() == StatusCommand()


def test_triage_error_from_ingest_fails_the_delivery(world: World) -> None:
    world.gateway.artifacts = {1: ("report", zip_of({"report.json": REPORT}), False)}
    world.options = IngestOptions(max_bytes=10)  # the report is over the cap: bad input
    outcome = run(world, "workflow_run", workflow_run())
    assert outcome is not None
    assert outcome.endswith("(attempt 1)")
    assert world.row().status == "failed"


@pytest.mark.parametrize(("transient", "status"), [(True, "pending"), (False, "failed")])
def test_github_errors_retry_only_when_transient(
    world: World, transient: bool, status: str
) -> None:
    class Flaky(Gateway):
        def list_run_artifacts(self, run_id: int) -> list[ArtifactInfo]:
            raise GitHubError(
                "github_error", "GitHub answered 502", status=502, transient=transient
            )

    run(world, "workflow_run", workflow_run(), gateway=Flaky())
    assert world.row().status == status
