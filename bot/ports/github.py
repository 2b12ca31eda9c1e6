"""GitHub port: the gateway, the issue-state reader, and what they return or raise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.errors import TriageError
from bot.ports.store import IssueState


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

    def find_issue(self, text: str, *, since: datetime | None = None) -> int | None:
        """Return the number of an issue opened by the bot whose body contains `text`."""
        ...


@runtime_checkable
class IssueStateReader(Protocol):
    """Reads known issues' state from GitHub (the real gateway has it; dry runs do not)."""

    def issue_states(self, numbers: Sequence[int]) -> list[IssueState]:
        """Return each issue's state, title and when its state last changed."""
        ...


class GitHubError(TriageError):
    """A GitHub call failed; says whether and when to try again, never holds a secret."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        rate_limit_reset: float | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(reason, message)
        self.status = status
        self.retry_after = retry_after  # seconds, from Retry-After
        self.rate_limit_reset = rate_limit_reset  # epoch seconds, from x-ratelimit-reset
        self.transient = transient  # worth retrying later: 5xx, timeout, rate limit


# --- the tracking issue's body (its task list)


@dataclass(frozen=True, slots=True)
class IssueBody:
    """An issue's Markdown body and when it last changed."""

    number: int
    body: str
    updated_at: datetime


@runtime_checkable
class IssueBodyReader(Protocol):
    """Reads one issue's body from GitHub (the real gateway has it; dry runs do not)."""

    def issue_body(self, number: int) -> IssueBody | None:
        """Return the issue's body; None when GitHub has no such issue."""


# --- commit verdicts: check runs (a GitHub App) and commit statuses (a token)


@dataclass(frozen=True, slots=True)
class CommitVerdictWrite:
    """What a check run or commit status shows of a run's verdict."""

    sha: str
    name: str  # check run name or status context
    external_id: str  # the run, so a check run can be found again
    conclusion: str  # success, neutral or failure
    title: str
    summary: str
    details_url: str | None


@runtime_checkable
class CommitVerdictGateway(Protocol):
    """GitHub's check runs (a GitHub App) and commit statuses (a token), on one repository."""

    def find_check_run(self, sha: str, name: str, external_id: str) -> int | None:
        """Return the id of the check run on the commit with this name and external id."""
        ...

    def create_check_run(self, write: CommitVerdictWrite) -> int:
        """Create a completed check run; return its id."""
        ...

    def update_check_run(self, check_run_id: int, write: CommitVerdictWrite) -> None:
        """Bring a check run to the write's conclusion and output (idempotent)."""
        ...

    def set_commit_status(self, write: CommitVerdictWrite, *, state: str) -> None:
        """Post a status; the newest one of a context is what GitHub shows."""
        ...
