"""Webhook parsing under arbitrary bodies and headers: a clear 2xx or 4xx, never a 5xx."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.http import running_service
from bot.core.webhook import WebhookError, parse_command, parse_event, verify_signature
from tests.hardening.conftest import signature

EVENTS = ["issues", "issue_comment", "workflow_run", "ping", "push", "pull_request", ""]
ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
COMMENTS = st.sampled_from(
    ["/triage status", "/triage link tests/*", "/triage unlink abc", "/triage wrong 1 t::x",
     "/triage", "/triage wrong x", "hello"]
) | st.text(max_size=80)  # fmt: skip
# GitHub-shaped payloads whose fields hold anything: the parser's type checks are what is tested.
RUN_FIELDS = (
    "head_sha",
    "head_branch",
    "html_url",
    "run_started_at",
    "conclusion",
    "run_attempt",
)
NUMBERS = st.integers(-(2**70), 2**70) | JSON
SHAPED = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["completed", "closed", "reopened", "edited", "created"]) | JSON,
        "issue": st.fixed_dictionaries(
            {"number": NUMBERS, "state": st.sampled_from(["open", "closed"]) | JSON},
            optional={
                "title": JSON,
                "updated_at": st.sampled_from(["2026-11-20T10:00:00Z", "x"]) | JSON,
                "state_reason": JSON,
            },
        )
        | JSON,
        "comment": st.fixed_dictionaries(
            {
                "id": NUMBERS,
                "body": COMMENTS | JSON,
                "user": st.fixed_dictionaries({"login": ASCII | JSON, "type": JSON}) | JSON,
            },
            optional={"author_association": JSON},
        )
        | JSON,
        "workflow_run": st.fixed_dictionaries(
            {"id": NUMBERS, "name": st.just("staging-e2e") | JSON},
            optional=dict.fromkeys(RUN_FIELDS, JSON),
        )
        | JSON,
    }
)
# Nested past any limit: once a RecursionError and a 500.
DEEP = st.integers(60, 200_000).flatmap(
    lambda depth: st.sampled_from(
        [b"[" * depth + b"]" * depth, b'{"a": ' * depth + b"1" + b"}" * depth]
    )
)
BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda v: json.dumps(v).encode())
    | SHAPED.map(lambda v: json.dumps(v).encode())
    | DEEP
)


@given(event=st.sampled_from(EVENTS) | ASCII, body=BODIES)
@settings(max_examples=400, deadline=None)
def test_parse_event_returns_or_raises_webhook_error(event: str, body: bytes) -> None:
    try:
        parse_event(event, body)
    except WebhookError as exc:
        reason = exc.reason
        assert reason


@given(body=st.binary(max_size=200), header=st.none() | ASCII)
@settings(max_examples=300, deadline=None)
def test_verify_signature_accepts_only_the_right_hmac(body: bytes, header: str | None) -> None:
    try:
        verify_signature(b"s3cret", body, header)
    except WebhookError:
        return
    assert header == signature(body, "s3cret")


@given(text=st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_parse_command_never_crashes(text: str) -> None:
    parse_command(text)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'triage.db'}"
    with running_service(url) as (address, _proc):
        yield address


@given(
    event=st.sampled_from(EVENTS) | ASCII,
    body=BODIES,
    delivery=st.none()
    | st.just("fresh")
    | ASCII
    | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=101),
    signed=st.sampled_from(["right", "right", "right", "wrong", "none"]),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain"]
    ),
)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_service_answers_2xx_or_4xx_to_any_delivery(  # noqa: PLR0917 - one per strategy
    base: str, event: str, body: bytes, delivery: str | None, signed: str, content_type: str
) -> None:
    # HTTP header values carry no leading or trailing whitespace (h11 refuses to send it).
    headers: dict[str, Any] = {"X-GitHub-Event": event.strip(), "Content-Type": content_type}
    if delivery is not None:
        headers["X-GitHub-Delivery"] = (
            str(uuid.uuid4()) if delivery == "fresh" else delivery.strip()
        )
    if signed != "none":
        headers["X-Hub-Signature-256"] = signature(body if signed == "right" else body + b"x")
    answer = httpx.post(f"{base}/api/v1/github/webhook", content=body, headers=headers, timeout=30)
    assert 200 <= answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.json()["error"]
    if signed != "right":
        assert answer.status_code == 401


def test_service_is_healthy_after_the_fuzzing(base: str) -> None:
    assert httpx.get(f"{base}/healthz").status_code == 200
