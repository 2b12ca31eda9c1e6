"""Webhook signatures, payload parsing and `/triage` command parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.core.webhook import (
    CommentEvent,
    IssueEvent,
    LinkCommand,
    StatusCommand,
    UnlinkCommand,
    WebhookError,
    WorkflowRunEvent,
    WrongCommand,
    expected_signature,
    parse_command,
    parse_event,
    verify_signature,
)

SECRET = b"It's a Secret to Everybody"
GITHUB_VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_signature_matches_githubs_documented_vector() -> None:
    assert expected_signature(SECRET, b"Hello, World!") == GITHUB_VECTOR
    verify_signature(SECRET, b"Hello, World!", GITHUB_VECTOR)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        (GITHUB_VECTOR.replace("757", "758"), "bad_signature"),
        (GITHUB_VECTOR.removeprefix("sha256="), "bad_signature"),
        ("sha1=" + "0" * 40, "bad_signature"),
        ("sha256=\u00e9", "bad_signature"),
    ],
)
def test_signature_rejects_wrong_or_missing(header: str | None, reason: str) -> None:
    with pytest.raises(WebhookError) as err:
        verify_signature(SECRET, b"Hello, World!", header)
    assert err.value.reason == reason


def test_signature_covers_every_byte_of_the_body() -> None:
    with pytest.raises(WebhookError):
        verify_signature(SECRET, b"Hello, World! ", GITHUB_VECTOR)


def _workflow_run() -> dict[str, object]:
    return {
        "action": "completed",
        "workflow_run": {
            "id": 30433642,
            "name": "staging-e2e",
            "head_branch": "main",
            "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
            "html_url": "https://github.com/acme/shop/actions/runs/30433642",
            "run_started_at": "2026-11-20T08:00:00Z",
            "conclusion": "failure",
            "run_attempt": 2,
        },
    }


def test_parse_workflow_run() -> None:
    event = parse_event("workflow_run", json.dumps(_workflow_run()).encode())
    assert event == WorkflowRunEvent(
        action="completed",
        run_id=30433642,
        workflow_name="staging-e2e",
        head_branch="main",
        head_sha="acb5820ced9479c074f688cc328bf03f341a511d",
        html_url="https://github.com/acme/shop/actions/runs/30433642",
        run_started_at=datetime(2026, 11, 20, 8, tzinfo=UTC),
        conclusion="failure",
        run_attempt=2,
    )


@pytest.mark.parametrize(
    ("extra", "previous", "sender"),
    [
        (
            {"changes": {"body": {"from": "- [ ] a"}}, "sender": {"login": "alice"}},
            "- [ ] a",
            "alice",
        ),
        ({"changes": {"body": {"from": None}}, "sender": {"login": "alice"}}, "", "alice"),
        ({"changes": {"title": {"from": "old"}}, "sender": {}}, None, None),
        ({"changes": {"body": {"from": 7}}, "sender": "alice"}, None, None),
        ({"changes": [], "sender": {"login": ""}}, None, None),
        ({}, None, None),
    ],
    ids=["body", "empty-body", "title-only", "bad-from", "bad-changes", "none"],
)
def test_parse_issue_edit(
    extra: dict[str, object], previous: str | None, sender: str | None
) -> None:
    issue = {"number": 623, "state": "open", "title": "Plan", "body": "- [x] a"}
    body = json.dumps({"action": "edited", "issue": issue, **extra}).encode()
    parsed = parse_event("issues", body)
    assert isinstance(parsed, IssueEvent)
    assert (parsed.body, parsed.previous_body, parsed.sender) == ("- [x] a", previous, sender)


def test_parse_issue_and_comment() -> None:
    issue = {"number": 7, "state": "closed", "state_reason": "completed", "title": "Redis"}
    parsed = parse_event("issues", json.dumps({"action": "closed", "issue": issue}).encode())
    assert parsed == IssueEvent("closed", 7, "closed", "completed", "Redis")
    comment = {
        "id": 99,
        "body": "/triage status",
        "user": {"login": "octocat", "type": "User"},
        "author_association": "MEMBER",
    }
    body = json.dumps({"action": "created", "issue": {"number": 7}, "comment": comment})
    assert parse_event("issue_comment", body.encode()) == CommentEvent(
        "created", 7, 99, "/triage status", "octocat", "User", "MEMBER"
    )


@pytest.mark.parametrize("event", ["workflow_run", "issues", "issue_comment"])
def test_an_app_delivery_carries_its_installation_id(event: str) -> None:
    comment = {"id": 99, "body": "/triage status", "user": {"login": "octocat"}}
    payloads: dict[str, dict[str, object]] = {
        "workflow_run": _workflow_run(),
        "issues": {"action": "closed", "issue": {"number": 7, "state": "closed"}},
        "issue_comment": {"action": "created", "issue": {"number": 7}, "comment": comment},
    }
    data = payloads[event]
    token_delivery = parse_event(event, json.dumps(data).encode())
    assert token_delivery is not None
    assert token_delivery.installation_id is None
    data["installation"] = {"id": 4242, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg=="}
    app_delivery = parse_event(event, json.dumps(data).encode())
    assert app_delivery is not None
    assert app_delivery.installation_id == 4242


@pytest.mark.parametrize("installation", ['"4242"', "{}", '{"id": "x"}', "[1]", '{"id": true}'])
def test_a_malformed_installation_is_an_unexpected_shape(installation: str) -> None:
    body = '{"action": "closed", "issue": {"number": 7, "state": "closed"}, '
    body += f'"installation": {installation}}}'
    with pytest.raises(WebhookError) as err:
        parse_event("issues", body.encode())
    assert err.value.reason == "unexpected_shape"


def test_unhandled_event_parses_to_none() -> None:
    assert parse_event("push", b"not even json") is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "bad_payload"),
        (b"\xff\xfe", "bad_payload"),
        (b"[1, 2]", "bad_payload"),
        (b'{"action": "completed", "workflow_run": {"id": 1, "name": "n"', "bad_payload"),
        (b"[" * 100_000 + b"]" * 100_000, "bad_payload"),
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "bad_payload"),
        (b'{"a": ' * 65 + b"1" + b"}" * 65, "bad_payload"),
        (
            b'{"action": "completed", "workflow_run": {"id": 2e400, "name": "n"}}',
            "unexpected_shape",
        ),
        (b'{"action": "completed", "workflow_run": {"id": -1, "name": "n"}}', "unexpected_shape"),
        (
            b'{"action": "completed", "workflow_run": {"id": 9223372036854775808, "name": "n"}}',
            "unexpected_shape",
        ),
    ]
    + [
        (body, "unexpected_shape")
        for body in (
            b'{"action": "completed"}',
            b'{"action": "completed", "workflow_run": {"id": "x", "name": "n"}}',
            b'{"action": "completed", "workflow_run": {"id": true, "name": "n"}}',
            b'{"action": 1, "workflow_run": {"id": 1, "name": "n"}}',
            b'{"action": "c", "workflow_run": {"id": 1, "name": "n", "run_started_at": "soon"}}',
            b'{"action": "c", "workflow_run": {"id": 1, "name": "n", "head_sha": 5}}',
        )
    ],
)
def test_malformed_payloads_are_refused_and_odd_shapes_told_apart(body: bytes, reason: str) -> None:
    # Not JSON, not an object or nested too deep: refused. Valid JSON of another shape than
    # the service reads: "unexpected_shape", which the receiver ignores.
    with pytest.raises(WebhookError) as err:
        parse_event("workflow_run", body)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/triage status", StatusCommand()),
        ("Thanks!\n\n  /triage   STATUS  \n", StatusCommand()),
        ("/triage link tests/api/test_cart.py::*", LinkCommand("tests/api/test_cart.py::*")),
        ("/triage unlink 3f2a9c0d1e2b4a5f", UnlinkCommand("3f2a9c0d1e2b4a5f")),
        (
            '/triage wrong 42 "tests/test_a.py::test_x[a b]"',
            WrongCommand("42", "tests/test_a.py::test_x[a b]"),
        ),
        ("no command here", None),
        ("see /triage status in the docs", None),
        ("/triaged status", None),
    ],
)
def test_parse_command(body: str, expected: object) -> None:
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "/triage",
        "/triage fly",
        "/triage link",
        "/triage wrong 42",
        "/triage link 'open",
        "/triage link " + "x" * 600,
    ],
)
def test_bad_commands_raise_bad_command(body: str) -> None:
    with pytest.raises(WebhookError) as err:
        parse_command(body)
    assert err.value.reason == "bad_command"
