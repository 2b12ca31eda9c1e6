"""GitHub webhook deliveries: signature check, typed payloads and `/triage` commands."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from bot.core.errors import TriageError

SIGNATURE_PREFIX = "sha256="


class WebhookError(TriageError):
    """A delivery or a command that cannot be accepted."""


def expected_signature(secret: bytes, body: bytes) -> str:
    """Return the `X-Hub-Signature-256` value GitHub sends for `body`."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> None:
    """Raise WebhookError unless `header` is the HMAC-SHA256 of the raw body (constant time)."""
    if not header:
        raise WebhookError("missing_signature", "X-Hub-Signature-256 header is missing")
    expected = expected_signature(secret, body).encode("ascii")
    if not hmac.compare_digest(expected, header.strip().encode("utf-8", "replace")):
        raise WebhookError("bad_signature", "X-Hub-Signature-256 does not match the body")


# --- payloads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkflowRunEvent:
    action: str
    run_id: int
    workflow_name: str
    head_branch: str | None
    head_sha: str | None
    html_url: str | None
    run_started_at: datetime | None
    conclusion: str | None
    run_attempt: int
    installation_id: int | None = None  # the GitHub App installation that sent it


@dataclass(frozen=True, slots=True)
class IssueEvent:
    action: str
    number: int
    state: str
    state_reason: str | None
    title: str
    updated_at: datetime | None = None
    installation_id: int | None = None
    body: str = ""
    previous_body: str | None = None  # an edit's `changes.body.from`: None when the body stayed
    sender: str | None = None


@dataclass(frozen=True, slots=True)
class CommentEvent:
    action: str
    issue_number: int
    comment_id: int
    body: str
    user_login: str
    user_type: str
    author_association: str
    installation_id: int | None = None


Event = WorkflowRunEvent | IssueEvent | CommentEvent


# GitHub's payloads nest about ten levels; Python's json recurses once per level.
MAX_DEPTH = 64
# Ids and numbers GitHub sends fit a signed 64-bit column.
MAX_ID = 2**63 - 1
# A payload field that is missing or of another type than the service reads: GitHub sends
# shapes the service does not know (new actions, partial objects); they are ignored, not refused.
SHAPE = "unexpected_shape"


def _depth(data: object) -> int:
    """The nesting depth of decoded JSON, without recursion (a stack of (value, depth))."""
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return deepest


def load_payload(body: bytes) -> dict[str, Any]:
    """Decode a delivery body into its JSON object; nesting past MAX_DEPTH is refused."""
    too_deep = WebhookError("bad_payload", f"payload nests deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(body)
    except RecursionError:
        raise too_deep from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError("bad_payload", f"payload is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WebhookError("bad_payload", "payload is not a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise WebhookError(SHAPE, f"payload field {key!r} must be an object")
    return value


def _str(data: dict[str, Any], key: str, *, optional: bool = False) -> str:
    value = data.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise WebhookError(SHAPE, f"payload field {key!r} must be a string")
    return value


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise WebhookError(SHAPE, f"payload field {key!r} must be a string or null")
    return value


def _int(data: dict[str, Any], key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise WebhookError(SHAPE, f"payload field {key!r} must be an integer from 0 to {MAX_ID}")
    return value


def _time(data: dict[str, Any], key: str) -> datetime | None:
    value = _opt_str(data, key)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookError(SHAPE, f"payload field {key!r} is not a timestamp") from None


def _installation(data: dict[str, Any]) -> int | None:
    """Return `installation.id`, which only deliveries to a GitHub App carry."""
    if data.get("installation") is None:
        return None
    return _int(_obj(data, "installation"), "id")


def parse_workflow_run(data: dict[str, Any]) -> WorkflowRunEvent:
    """Read the fields of a `workflow_run` delivery the service uses."""
    run = _obj(data, "workflow_run")
    return WorkflowRunEvent(
        action=_str(data, "action"),
        run_id=_int(run, "id"),
        workflow_name=_str(run, "name"),
        head_branch=_opt_str(run, "head_branch"),
        head_sha=_opt_str(run, "head_sha"),
        html_url=_opt_str(run, "html_url"),
        run_started_at=_time(run, "run_started_at"),
        conclusion=_opt_str(run, "conclusion"),
        run_attempt=_int(run, "run_attempt", 1),
        installation_id=_installation(data),
    )


def parse_issue(data: dict[str, Any]) -> IssueEvent:
    """Read the fields of an `issues` delivery the service uses."""
    issue = _obj(data, "issue")
    return IssueEvent(
        action=_str(data, "action"),
        number=_int(issue, "number"),
        state=_str(issue, "state"),
        state_reason=_opt_str(issue, "state_reason"),
        title=_str(issue, "title", optional=True),
        updated_at=_time(issue, "updated_at"),
        installation_id=_installation(data),
        body=_str(issue, "body", optional=True),
        previous_body=_previous_body(data),
        sender=_sender(data),
    )


def _sender(data: dict[str, Any]) -> str | None:
    """Return `sender.login`; a delivery without one still carries its issue's state."""
    sender = data.get("sender")
    login = sender.get("login") if isinstance(sender, dict) else None
    return login if isinstance(login, str) and login else None


def _previous_body(data: dict[str, Any]) -> str | None:
    """Return an `edited` delivery's old body (`changes.body.from`), if the body changed."""
    changes = data.get("changes")
    old = changes.get("body") if isinstance(changes, dict) else None
    if not isinstance(old, dict) or "from" not in old:
        return None
    value = old["from"]
    if value is None:
        return ""  # the body was empty
    return value if isinstance(value, str) else None


def parse_comment(data: dict[str, Any]) -> CommentEvent:
    """Read the fields of an `issue_comment` delivery the service uses."""
    issue = _obj(data, "issue")
    comment = _obj(data, "comment")
    user = _obj(comment, "user")
    return CommentEvent(
        action=_str(data, "action"),
        issue_number=_int(issue, "number"),
        comment_id=_int(comment, "id"),
        body=_str(comment, "body", optional=True),
        user_login=_str(user, "login"),
        user_type=_str(user, "type", optional=True),
        author_association=_str(comment, "author_association", optional=True),
        installation_id=_installation(data),
    )


_PARSERS: dict[str, Callable[[dict[str, Any]], Event]] = {
    "workflow_run": parse_workflow_run,
    "issues": parse_issue,
    "issue_comment": parse_comment,
}


def parse_event(event: str, body: bytes) -> Event | None:
    """Parse a delivery of a handled event; None for events the service does not handle."""
    parser = _PARSERS.get(event)
    if parser is None:
        return None
    return parser(load_payload(body))


# --- /triage commands -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusCommand:
    name: ClassVar[str] = "status"


@dataclass(frozen=True, slots=True)
class LinkCommand:
    name: ClassVar[str] = "link"
    pattern: str
    confirm: bool = False  # `--confirm`: link even when the glob covers many stored failures


@dataclass(frozen=True, slots=True)
class UnlinkCommand:
    name: ClassVar[str] = "unlink"
    pattern: str


@dataclass(frozen=True, slots=True)
class WrongCommand:
    name: ClassVar[str] = "wrong"
    run_id: str
    nodeid: str


Command = StatusCommand | LinkCommand | UnlinkCommand | WrongCommand

USAGE = (
    "Usage: `/triage status`, `/triage link <node-id glob or fingerprint> [--confirm]`, "
    "`/triage unlink <node-id glob or fingerprint>`, `/triage wrong <run id> <node id>`"
)
_COMMAND_LINE = re.compile(r"^\s*/triage(?:\s+(?P<rest>.*))?$")
MAX_ARGUMENT = 500
CONFIRM = "--confirm"
_RUN_ID = re.compile(r"#?([0-9]{1,19})")


def parse_run_id(text: str) -> int:
    """Read a run id ("42" or "#42"); a bad or out-of-range one is a bad_command error."""
    match = _RUN_ID.fullmatch(text)
    value = int(match.group(1)) if match else 0
    if not 1 <= value <= MAX_ID:
        raise WebhookError(
            "bad_command",
            f"`{text[:40]}` is not a run id: give the number of a stored run, "
            f"from 1 to {MAX_ID}. {USAGE}",
        )
    return value


def find_command(body: str) -> str | None:
    """Return the first line of `body` that is a `/triage` command, if any."""
    for line in body.splitlines():
        match = _COMMAND_LINE.match(line)
        if match:
            return (match.group("rest") or "").strip()
    return None


def parse_command(body: str) -> Command | None:
    """Parse the `/triage` command in a comment; None when the comment holds none."""
    rest = find_command(body)
    if rest is None:
        return None
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise WebhookError("bad_command", f"cannot read the command: {exc}. {USAGE}") from None
    if any(len(word) > MAX_ARGUMENT for word in words):
        raise WebhookError("bad_command", f"an argument is longer than {MAX_ARGUMENT} characters")
    verb, args = (words[0].lower(), words[1:]) if words else ("", [])
    if verb == "status" and not args:
        return StatusCommand()
    if verb == "link" and CONFIRM in args:
        rest_args = [a for a in args if a != CONFIRM]
        if len(rest_args) == 1:
            return LinkCommand(rest_args[0], confirm=True)
    if verb in ("link", "unlink") and len(args) == 1:
        return LinkCommand(args[0]) if verb == "link" else UnlinkCommand(args[0])
    if verb == "wrong" and len(args) == 2:
        parse_run_id(args[0])  # refused here, with a reply, rather than failing in the store
        return WrongCommand(run_id=args[0], nodeid=args[1])
    raise WebhookError("bad_command", f"unknown or incomplete command `/triage {rest}`. {USAGE}")
