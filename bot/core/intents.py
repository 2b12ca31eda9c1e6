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


Intent = PostComment | UpsertComment | SetIssueState | CreateIssue
