"""Re-judged history over HTTP: /triage link of a stored fingerprint, a knowledge change at start.

The app runs under uvicorn with GitHub as the local fake; reports come from a real pytest run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.web.app import create_app
from tests.web.conftest import Db, auth, serving, wait_for
from tests.web.webhook_support import done, payload, send

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
PRODUCT_RULE = """

[[rules]]
id = "arithmetic"
message = "arithmetic is broken"
"""


@pytest.fixture
def settings(github_settings: Settings) -> Settings:
    return github_settings


def _comment(body: str, comment_id: int) -> dict[str, Any]:
    return payload(
        "issue_comment_created",
        comment__body=body,
        comment__id=comment_id,
        comment__user={"login": "mona", "id": 1, "type": "User"},
    )


def _upload(client: httpx.Client, data: bytes, day: int) -> int:
    answer = client.post(
        "/api/v1/runs",
        params={"suite": "staging-e2e", "started_at": f"2026-11-0{day}T08:00:00Z"},
        content=data,
        headers=auth(),
    )
    assert answer.status_code in (200, 201), answer.text
    run_id: int = answer.json()["run_id"]
    return run_id


def _product_bug(client: httpx.Client, run_id: int) -> dict[str, Any]:
    failures = client.get(f"/api/v1/runs/{run_id}").json()["failures"]
    found: dict[str, Any] = next(f for f in failures if f["nodeid"].endswith("test_product_bug"))
    return found


def test_linking_a_stored_fingerprint_rejudges_history_and_shows_it(
    client: httpx.Client, db: Db, reports: dict[str, bytes]
) -> None:
    runs = [_upload(client, reports["json"], 1), _upload(client, reports["xml"] + b"\n", 2)]
    before = _product_bug(client, runs[0])
    assert (before["known_issue"], before["classification"]) == (None, "new")
    fingerprint = before["fingerprint"]
    send(client, "issue_comment", _comment(f"/triage link {fingerprint}", 11), "d-link")
    wait_for(lambda: done(db, "d-link"))
    after = [_product_bug(client, run_id) for run_id in runs]
    assert {(f["known_issue"], f["rule"][:7], f["classification"]) for f in after} == {
        (1029, "manual#", "known")
    }
    page = client.get("/api/v1/judgements").json()
    assert page["total"] == 2
    assert {(i["run_id"], i["reason"], i["after_issue"]) for i in page["items"]} == {
        (runs[0], "link", 1029),
        (runs[1], "link", 1029),
    }
    one = client.get("/api/v1/judgements", params={"run_id": runs[1]}).json()
    assert [i["before_classification"] for i in one["items"]] == ["persistent"]
    issues = {i["number"]: i for i in client.get("/api/v1/known-issues").json()}
    assert issues[1029]["occurrences"] == 4  # the Redis failure of each run, and the linked one
    assert client.get("/api/v1/judgements", params={"per_page": 0}).status_code == 422


def test_a_changed_knowledge_base_rejudges_history_at_start(
    settings: Settings, reports: dict[str, bytes], tmp_path: Path
) -> None:
    with serving(create_app(settings)) as client:
        run_id = _upload(client, reports["json"], 1)
        assert _product_bug(client, run_id)["known_issue"] is None
    changed = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, changed)
    redis = changed / "issues" / "1029-redis-connection-failures.toml"
    redis.write_text(redis.read_text() + PRODUCT_RULE)
    moved = settings.model_copy(update={"knowledge_dir": changed})
    with serving(create_app(moved)) as client:
        bug = _product_bug(client, run_id)
        page = client.get("/api/v1/judgements").json()
    assert (bug["known_issue"], bug["rule"], bug["classification"]) == (
        1029,
        "1029-redis-connection-failures#arithmetic",
        "known",
    )
    assert [(i["reason"], i["before_issue"], i["after_issue"]) for i in page["items"]] == [
        ("knowledge", None, 1029)
    ]
    with serving(create_app(moved)) as client:  # the same knowledge again: nothing moves
        assert client.get("/api/v1/judgements").json()["total"] == 1
