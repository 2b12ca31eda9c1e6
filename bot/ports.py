"""Ports: the interfaces services need; store/ and github/ implement them, tests fake them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.intents import Intent

# Each section is owned by one area; add Protocols inside your own section only.

# --- runs, history and read models (store) -------------------------------------------------

# --- GitHub (gateway) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    id: int
    name: str
    size_in_bytes: int
    expired: bool


@dataclass(frozen=True, slots=True)
class CommentRef:
    id: int
    body: str
    user_login: str
    html_url: str


class GitHubGateway(Protocol):
    """Everything the services ask of GitHub, for the configured repository."""

    def list_run_artifacts(self, run_id: int) -> list[ArtifactInfo]: ...

    def download_artifact(self, artifact_id: int, *, max_bytes: int) -> bytes:
        """Return the artifact's zip bytes; raise TriageError("too_large") past max_bytes."""
        ...

    def permission(self, username: str) -> str:
        """Return the user's role name: admin, maintain, write, triage, read or none."""
        ...

    def create_comment(self, issue: int, body: str) -> CommentRef: ...

    def edit_comment(self, comment_id: int, body: str) -> None: ...

    def list_comments(self, issue: int, *, since: datetime | None = None) -> list[CommentRef]: ...

    def set_issue_state(self, issue: int, state: str, reason: str | None) -> None: ...

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> int: ...

    def bot_login(self) -> str:
        """Return the login the gateway writes as (its comments are ignored as commands)."""
        ...


# --- outbox ---------------------------------------------------------------------------------


class Outbox(Protocol):
    """Durable queue of GitHub writes, written in the caller's transaction."""

    def enqueue(self, intents: Sequence[Intent], *, now: datetime) -> int:
        """Store intents not stored before (by key); return how many were new."""
        ...


# --- objective, criteria and reports --------------------------------------------------------
