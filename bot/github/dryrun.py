"""A gateway that writes nothing: it records what would be sent, used without credentials."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.errors import TriageError
from bot.ports.github import ArtifactInfo, CommentRef, GitHubGateway

log = logging.getLogger(__name__)


@dataclass
class DryRunGateway:
    """Record every write in `sent`, answer reads from what it recorded."""

    login: str = "triage-bot[dry-run]"
    sent: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    _comments: dict[int, list[CommentRef]] = field(default_factory=dict)
    _next_id: int = 1

    def _record(self, action: str, **details: object) -> None:
        self.sent.append((action, details))
        log.info("dry run: would %s %s", action, {k: v for k, v in details.items() if k != "body"})

    def list_run_artifacts(self, run_id: int) -> list[ArtifactInfo]:
        """Refuse, so the delivery fails visibly and can be redelivered once credentials exist."""
        raise TriageError(
            "github_dry_run", "no GitHub credentials: the run's artifacts cannot be listed"
        )

    def download_artifact(self, artifact_id: int, *, max_bytes: int) -> bytes:
        """Refuse: a dry run cannot download."""
        raise TriageError("github_dry_run", "no GitHub credentials: artifacts cannot be downloaded")

    def permission(self, username: str) -> str:
        """Grant nothing: commands need a real permission check."""
        return "none"

    def create_comment(self, issue: int, body: str) -> CommentRef:
        """Record the comment that would be posted."""
        self._record("create_comment", issue=issue, body=body)
        ref = CommentRef(
            self._next_id, body, self.login, f"dry-run://issues/{issue}#{self._next_id}"
        )
        self._next_id += 1
        self._comments.setdefault(issue, []).append(ref)
        return ref

    def edit_comment(self, comment_id: int, body: str) -> None:
        """Record the edit that would be made."""
        self._record("edit_comment", comment_id=comment_id, body=body)
        for issue, refs in self._comments.items():
            self._comments[issue] = [
                CommentRef(r.id, body, r.user_login, r.html_url) if r.id == comment_id else r
                for r in refs
            ]

    def list_comments(self, issue: int, *, since: datetime | None = None) -> list[CommentRef]:
        """Return the comments recorded on the issue."""
        return list(self._comments.get(issue, []))

    def set_issue_state(self, issue: int, state: str, reason: str | None) -> None:
        """Record the state change that would be made."""
        self._record("set_issue_state", issue=issue, state=state, reason=reason)

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> int:
        """Record the issue that would be filed; its number is 0."""
        self._record("create_issue", title=title, body=body, labels=list(labels))
        return 0

    def find_issue(self, text: str, *, since: datetime | None = None) -> int | None:
        """Find nothing: a dry run files nothing."""
        return None

    def bot_login(self) -> str:
        """Return the configured login."""
        return self.login


@dataclass
class ReadThroughDryRun(DryRunGateway):
    """Dry run with credentials: reads (artifacts, permissions) ask GitHub, writes are recorded."""

    reads: GitHubGateway | None = None

    def _real(self) -> GitHubGateway:
        if self.reads is None:
            raise TriageError("github_dry_run", "no GitHub gateway to read from")
        return self.reads

    def list_run_artifacts(self, run_id: int) -> list[ArtifactInfo]:
        """List the run's artifacts on GitHub."""
        return self._real().list_run_artifacts(run_id)

    def download_artifact(self, artifact_id: int, *, max_bytes: int) -> bytes:
        """Download the artifact from GitHub."""
        return self._real().download_artifact(artifact_id, max_bytes=max_bytes)

    def permission(self, username: str) -> str:
        """Ask GitHub for the user's role."""
        return self._real().permission(username)
