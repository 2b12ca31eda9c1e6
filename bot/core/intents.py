"""GitHub write-backs planned as data: the core decides, the outbox sender performs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class PostComment:
    """Post a new comment once; `key` is unique and is written into the body as a hidden marker."""

    issue: int
    body: str
    key: str


@dataclass(frozen=True, slots=True)
class UpsertComment:
    """Edit the bot's comment carrying `marker` when its text changed; create it if none."""

    issue: int
    marker: str
    body: str
    key: str


@dataclass(frozen=True, slots=True)
class SetIssueState:
    issue: int
    state: Literal["open", "closed"]
    reason: str | None
    key: str


@dataclass(frozen=True, slots=True)
class CreateIssue:
    """File a new issue; `key` (a fingerprint marker) in the body stops a second filing."""

    title: str
    body: str
    labels: tuple[str, ...]
    key: str


@dataclass(frozen=True, slots=True)
class SetCommitVerdict:
    """Show a run's verdict on its commit: a check run (GitHub App) or a commit status (token).

    One check run per run and name, edited in place when the run is re-judged; a status is
    replaced by the next one of the same context. `conclusion` is success, neutral or failure.
    """

    run_id: int
    sha: str
    name: str  # the check run's name, or the status's context
    mode: Literal["check_run", "status"]
    conclusion: str
    title: str
    summary: str
    details_url: str | None
    key: str


Intent = PostComment | UpsertComment | SetIssueState | CreateIssue | SetCommitVerdict


MARKER_PREFIX = "<!-- triage-bot:"


def marker(key: str) -> str:
    """Return the hidden HTML marker that identifies a bot comment or issue body."""
    return f"{MARKER_PREFIX}{key} -->"


def with_marker(body: str, key: str) -> str:
    """Append the hidden marker to a body unless it is already there."""
    tag = marker(key)
    return body if tag in body else f"{body}\n\n{tag}"


def intent_kind(intent: Intent) -> str:
    """Name the kind of an intent, as stored in the outbox."""
    return type(intent).__name__


def intent_target(intent: Intent) -> str:
    """Name what the intent writes to; pending upserts of one target supersede each other."""
    match intent:
        case UpsertComment(issue=issue, marker=mark):
            return f"comment:{issue}:{mark}"
        case PostComment(issue=issue) | SetIssueState(issue=issue):
            return f"issue:{issue}"
        case CreateIssue():
            return "repository"
        case SetCommitVerdict(run_id=run_id, name=name):
            return f"verdict:{run_id}:{name}"


def intent_to_payload(intent: Intent) -> dict[str, object]:
    """Turn an intent into JSON-able data (its kind is stored beside it)."""
    match intent:
        case CreateIssue(title=title, body=body, labels=labels, key=key):
            return {"title": title, "body": body, "labels": list(labels), "key": key}
        case _:
            return {name: getattr(intent, name) for name in intent.__slots__}


def intent_from_payload(kind: str, payload: dict[str, object]) -> Intent:
    """Rebuild an intent stored by intent_to_payload."""
    classes: dict[str, type[Intent]] = {
        c.__name__: c
        for c in (PostComment, UpsertComment, SetIssueState, CreateIssue, SetCommitVerdict)
    }
    if kind not in classes:
        raise ValueError(f"unknown intent kind {kind!r}")
    data = dict(payload)
    if kind == "CreateIssue":
        labels = data.get("labels", [])
        data["labels"] = tuple(labels) if isinstance(labels, list) else ()
    return classes[kind](**data)  # type: ignore[arg-type]
