"""POST /api/v1/github/webhook over HTTP: signature, ping, dedupe, issues, workflow_run."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import httpx
import pytest
from fastapi import FastAPI

from bot.config import Settings
from bot.store.tables import FailureRow, KnownIssueState, Run, WebhookDelivery
from bot.web.app import create_app
from tests.github_server import Fault, GitHubState
from tests.web.conftest import Db, make_settings, serving, signed, wait_for
from tests.web.webhook_support import (
    RUN_ID,
    done,
    payload,
    send,
    zip_of,
)

URL = "/api/v1/github/webhook"


@pytest.fixture
def settings(github_settings: Settings) -> Settings:
    """The app talks to the fake GitHub."""
    return github_settings


# --- signature, ping, dedupe ------------------------------------------------------------------


def test_ping_is_answered(client: httpx.Client) -> None:
    answer = send(client, "ping", payload("ping"), "d-ping")
    assert answer.status_code == 200
    assert answer.json()["status"] == "pong"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha1=abc"},
    ],
)
def test_bad_or_missing_signature_is_401_and_stores_nothing(
    client: httpx.Client, db: Db, headers: dict[str, str]
) -> None:
    body = json.dumps(payload("issues_closed")).encode()
    sent = {**signed(body, "issues", "d-bad"), **headers}
    if not headers["X-Hub-Signature-256"]:
        del sent["X-Hub-Signature-256"]
    answer = client.post(URL, content=body, headers=sent)
    assert answer.status_code == 401
    assert answer.json()["error"] in {"bad_signature", "missing_signature"}
    assert db.count(WebhookDelivery) == 0


def test_signature_with_another_secret_is_401(client: httpx.Client, db: Db) -> None:
    body = json.dumps(payload("ping")).encode()
    answer = client.post(URL, content=body, headers=signed(body, "ping", "d1", secret="other"))
    assert answer.status_code == 401


def test_no_secret_configured_refuses_deliveries(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, webhook_secret=None))
    with serving(app) as client:
        answer = send(client, "ping", payload("ping"), "d-ping")
    assert answer.status_code == 401
    assert answer.json()["error"] == "webhook_disabled"


def test_unhandled_events_and_actions_get_202(client: httpx.Client, db: Db) -> None:
    push = {"ref": "refs/heads/main", "before": "0" * 40, "after": "a" * 40}
    assert send(client, "push", push, "d-push").status_code == 202
    labeled = send(client, "issues", payload("issues_labeled"), "d-label")
    assert labeled.status_code == 202
    assert labeled.json()["status"] == "ignored"
    assert db.delivery("d-push").status == "ignored"
    assert db.delivery("d-push").payload is None


def test_malformed_payload_is_400_and_recorded_failed(client: httpx.Client, db: Db) -> None:
    answer = send(client, "issues", b'{"action": "closed", "issue": "x"}', "d-odd-shape")
    # Valid JSON in a shape the service does not read: ignored, not refused.
    assert answer.status_code == 202
    assert answer.json()["status"] == "ignored"
    assert db.delivery("d-odd-shape").status == "ignored"
    deep = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    answer = send(client, "issues", deep, "d-bad-payload")
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_payload"
    assert db.delivery("d-bad-payload").status == "failed"
    not_json = send(client, "issue_comment", b"\xff{{", "d-not-json")
    assert not_json.status_code == 400
    assert client.get("/healthz").status_code == 200


def test_the_action_is_recorded_from_the_payload(client: httpx.Client, db: Db) -> None:
    # The payload is decoded once, by the service; the row still names the action it holds.
    assert send(client, "issues", payload("issues_closed"), "d-closed").status_code == 202
    assert send(client, "issues", payload("issues_labeled"), "d-labeled").status_code == 202
    odd = send(client, "issues", b'{"action": "closed", "issue": "x"}', "d-odd")
    assert odd.status_code == 202
    push = {"ref": "refs/heads/main", "action": "a" * 300}
    assert send(client, "push", push, "d-push").status_code == 202
    assert send(client, "issue_comment", b"\xff{{", "d-not-json").status_code == 400
    assert db.delivery("d-closed").action == "closed"
    assert db.delivery("d-labeled").action == "labeled"
    assert db.delivery("d-odd").action == "closed"
    assert db.delivery("d-push").action == "a" * 100
    assert db.delivery("d-not-json").action == ""


def test_missing_event_or_delivery_header_is_400(client: httpx.Client) -> None:
    body = json.dumps(payload("issues_closed")).encode()
    headers = signed(body, "issues", "d1")
    del headers["X-GitHub-Delivery"]
    assert client.post(URL, content=body, headers=headers).status_code == 400
    headers = signed(body, "issues", "d1")
    del headers["X-GitHub-Event"]
    assert client.post(URL, content=body, headers=headers).status_code == 400


def test_payload_over_25_mb_is_413(client: httpx.Client) -> None:
    body = b"{" + b" " * (25 * 1024 * 1024)
    answer = client.post(URL, content=body, headers=signed(body, "issues", "d-big"))
    assert answer.status_code == 413


# --- issues -----------------------------------------------------------------------------------


def test_issue_closed_then_reopened_stores_state_and_dedupes(client: httpx.Client, db: Db) -> None:
    closed = send(client, "issues", payload("issues_closed"), "d-closed")
    assert closed.status_code == 202
    assert closed.json()["status"] == "accepted"
    wait_for(lambda: done(db, "d-closed"))
    (state,) = db.rows(KnownIssueState)
    assert (state.number, state.state, state.state_reason) == (1029, "closed", "completed")
    # A redelivery with the same GUID does nothing twice, even with other content.
    again = send(client, "issues", payload("issues_reopened"), "d-closed")
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert db.rows(KnownIssueState)[0].state == "closed"
    send(client, "issues", payload("issues_reopened"), "d-reopened")
    wait_for(lambda: done(db, "d-reopened"))
    assert db.rows(KnownIssueState)[0].state == "open"
    assert db.count(WebhookDelivery) == 2


def test_issue_that_is_not_known_is_not_stored(client: httpx.Client, db: Db) -> None:
    send(client, "issues", payload("issues_closed", issue__number=4242), "d-other")
    wait_for(lambda: done(db, "d-other"))
    assert db.count(KnownIssueState) == 0
    assert "not a known issue" in db.delivery("d-other").outcome


def test_closed_issue_makes_a_later_match_recurred(
    client: httpx.Client, db: Db, reports: dict[str, bytes]
) -> None:
    send(client, "issues", payload("issues_closed"), "d-closed")
    wait_for(lambda: done(db, "d-closed"))
    upload = client.post(
        "/api/v1/runs",
        params={"suite": "staging-e2e", "started_at": "2026-11-22T08:00:00Z"},
        content=reports["json"],
        headers={"Authorization": "Bearer upload-token-7f3a91c2"},
    )
    assert upload.status_code == 201
    assert upload.json()["summary"]["classifications"]["recurred"] == 1


# --- workflow_run -----------------------------------------------------------------------------


def test_workflow_run_ingests_the_report_artifact(
    client: httpx.Client, db: Db, github: GitHubState, reports: dict[str, bytes]
) -> None:
    github.add_artifact(RUN_ID, "screenshots", zip_of({"home.png": b"\x89PNG\r\n"}))
    github.add_artifact(RUN_ID, "pytest-report", zip_of({"out/report.json": reports["json"]}))
    answer = send(client, "workflow_run", payload("workflow_run_completed"), "d-run")
    assert answer.status_code == 202
    wait_for(lambda: done(db, "d-run"))
    assert db.delivery("d-run").status == "done", db.delivery("d-run").outcome
    (run,) = db.rows(Run)
    assert (run.suite, run.branch, run.source) == ("staging-e2e", "main", "webhook")
    assert run.commit == "acb5820ced9479c074f688cc328bf03f341a511d"
    assert run.ci_url == f"https://github.com/acme/widgets/actions/runs/{RUN_ID}"
    assert run.started_at.isoformat().startswith("2026-11-20T07:59:41")
    failures = db.count(FailureRow)
    assert failures == 3
    # A re-run attempt of the same workflow run is a new delivery with the same report.
    rerun = payload("workflow_run_completed", workflow_run__run_attempt=2)
    send(client, "workflow_run", rerun, "d-run-2")
    wait_for(lambda: done(db, "d-run-2"))
    assert (db.count(Run), db.count(FailureRow)) == (1, failures)
    paths = [r.path for r in github.requests]
    assert f"/repos/acme/widgets/actions/runs/{RUN_ID}/artifacts" in paths


def test_other_workflows_are_ignored(client: httpx.Client, db: Db, github: GitHubState) -> None:
    data = payload("workflow_run_completed", workflow_run__name="lint")
    assert send(client, "workflow_run", data, "d-lint").json()["status"] == "ignored"
    requested = payload("workflow_run_completed", action="requested")
    assert send(client, "workflow_run", requested, "d-req").json()["status"] == "ignored"
    assert github.requests == []


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("report.json")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("artifact", "reason"),
    [
        (zip_of({"../../../tmp/report.json": b"{}"}), "unsafe_artifact"),
        (zip_of({"/etc/report.json": b"{}"}), "unsafe_artifact"),
        (_symlink_zip(), "unsafe_artifact"),
        (zip_of({"report.json": b"{" + b" " * (6 * 1024 * 1024)}), "too_large"),
        (b"PK\x03\x04 not really a zip", "bad_artifact"),
    ],
    ids=["zip-slip", "absolute", "symlink", "zip-bomb", "garbage"],
)
def test_hostile_artifacts_are_rejected(
    client: httpx.Client, db: Db, github: GitHubState, artifact: bytes, reason: str
) -> None:
    github.add_artifact(RUN_ID, "pytest-report", artifact)
    send(client, "workflow_run", payload("workflow_run_completed"), "d-evil")
    wait_for(lambda: done(db, "d-evil"))
    row = db.delivery("d-evil")
    assert row.status == "failed"
    assert row.outcome.startswith(reason)
    assert db.count(Run) == 0
    assert client.get("/healthz").status_code == 200


def test_run_without_report_artifact_is_done_with_a_note(
    client: httpx.Client, db: Db, github: GitHubState
) -> None:
    github.add_artifact(RUN_ID, "logs", zip_of({"server.log": b"hello"}))
    send(client, "workflow_run", payload("workflow_run_completed"), "d-none")
    wait_for(lambda: done(db, "d-none"))
    assert "no report artifact" in db.delivery("d-none").outcome
    assert db.count(Run) == 0


def test_github_outage_is_retried_until_the_report_is_in(
    app: FastAPI, db: Db, github: GitHubState, reports: dict[str, bytes]
) -> None:
    github.add_artifact(RUN_ID, "pytest-report", zip_of({"report.json": reports["json"]}))
    github.faults.append(Fault("GET", r"/actions/runs/\d+/artifacts", "5xx", times=1000))
    app.state.context.retry_interval_s = 0.1
    app.state.context.retry_after_s = 0.0
    with serving(app) as client:
        send(client, "workflow_run", payload("workflow_run_completed"), "d-outage")
        wait_for(lambda: db.delivery("d-outage").attempts >= 2)
        assert db.delivery("d-outage").status in {"pending", "processing"}
        assert db.count(Run) == 0
        github.faults.clear()  # GitHub is back
        wait_for(lambda: done(db, "d-outage"))
    row = db.delivery("d-outage")
    assert row.status == "done", row.outcome
    assert db.count(Run) == 1
