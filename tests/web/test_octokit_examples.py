"""Every example payload of every event GitHub documents, signed, through the webhook.

From the npm package @octokit/webhooks-examples (vendored: tests/web/payloads/README.md).
No 5xx, no traceback; deliveries of handled events the service wants are processed.
"""

from __future__ import annotations

import gzip
import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.core.webhook import WebhookError, parse_event
from bot.services.webhook_context import WebhookConfig
from bot.services.webhooks import wants
from bot.store.tables import WebhookDelivery
from tests.web.conftest import PAYLOADS, Db, wait_for
from tests.web.webhook_support import send

PACKAGE = "@octokit/webhooks-examples"
VERSION = "7.6.1"
EVENTS: list[dict[str, Any]] = json.loads(
    gzip.decompress((PAYLOADS / "octokit-webhooks-examples-api.github.com.json.gz").read_bytes())
)
EXAMPLES = [(e["name"], i, x) for e in EVENTS for i, x in enumerate(e["examples"])]
WORKFLOWS = sorted(
    {x["workflow_run"]["name"] for name, _, x in EXAMPLES if name == "workflow_run"} - {""}
)


@pytest.fixture
def settings(github_settings: Settings) -> Settings:
    # The example workflows are the ones watched, so their completed runs are handled.
    return github_settings.model_copy(update={"workflow_names": WORKFLOWS})


def _expected(event: str, body: bytes, config: WebhookConfig) -> str:
    if event == "ping":
        return "pong"
    try:
        parsed = parse_event(event, body)
    except WebhookError as exc:
        # Only a shape the service does not read, never a refusal of GitHub's own payload.
        return "ignored" if exc.reason == "unexpected_shape" else f"refused: {exc.reason}"
    return "accepted" if parsed is not None and wants(event, parsed, config) else "ignored"


def test_the_vendored_package_is_whole() -> None:
    assert len(EVENTS) == 58
    assert len(EXAMPLES) == 329
    assert {"issues", "issue_comment", "workflow_run", "ping"} <= {e["name"] for e in EVENTS}


def test_every_example_payload_is_answered_and_handled(
    client: httpx.Client, db: Db, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    config = WebhookConfig(workflow_names=tuple(WORKFLOWS), bot_login=settings.github_bot_login)
    answers: dict[str, int] = {}
    accepted = []
    for event, index, example in EXAMPLES:
        body = json.dumps(example).encode()
        guid = f"octokit-{event}-{index}"
        answer = send(client, event, body, guid)
        assert answer.status_code < 500, (guid, answer.text)
        status = answer.json().get("status", answer.json().get("error"))
        assert status == _expected(event, body, config), (guid, answer.text)
        answers[status] = answers.get(status, 0) + 1
        if status == "accepted":
            accepted.append(guid)
        if example.get("action") in ("pinned", "unpinned"):
            assert status == "ignored"  # these were once refused with a 400
    assert set(answers) <= {"accepted", "ignored", "pong"}, answers
    # Every handled event with an action the service acts on was taken up.
    assert {g.split("-")[1] for g in accepted} == {"issues", "workflow_run"}, accepted

    def settled() -> bool:
        with db.engine.connect() as conn:
            query = select(WebhookDelivery.status).where(WebhookDelivery.guid.in_(accepted))  # type: ignore[attr-defined]
            return all(s in ("done", "ignored") for s in conn.execute(query).scalars())

    wait_for(settled, timeout=120)
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
