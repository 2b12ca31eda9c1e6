"""A gateway that writes nothing: it records what would be sent, used without credentials."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.errors import TriageError
from bot.core.redact import redact
from bot.ports.github import (
    ArtifactInfo,
    CommentRef,
    CommitVerdictGateway,
    CommitVerdictWrite,
    GitHubGateway,
)

log = logging.getLogger(__name__)
LINE_CAP = 120


def first_line(text: str) -> str:
    """The first non-blank line of a text, masked and cut to LINE_CAP, quoted for a log."""
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    line = redact(line)
    return repr(line if len(line) <= LINE_CAP else line[: LINE_CAP - 1] + "…")


@dataclass
class DryRunGateway:
    """Record every write in `sent`, answer reads from what it recorded."""

    login: str = "triage-bot[dry-run]"
    repository: str | None = None  # named in the log: where the write would have gone
    sent: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    _comments: dict[int, list[CommentRef]] = field(default_factory=dict)
    _next_id: int = 1
    _check_runs: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def _record(self, action: str, what: str, **details: object) -> None:
        # The log names the place and the first line only: a body can be 65,536 characters.
        self.sent.append((action, details))
        log.info("dry run: would %s", what)

    def _issue(self, issue: int) -> str:
        return f"{self.repository or '(no repository)'}#{issue}"

    def _issue_of(self, comment_id: int) -> str:
        for issue, refs in self._comments.items():
            if any(r.id == comment_id for r in refs):
                return self._issue(issue)
        return self.repository or "(no repository)"

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
        what = f"comment on {self._issue(issue)}: {first_line(body)}"
        self._record("create_comment", what, issue=issue, body=body)
        ref = CommentRef(
            self._next_id, body, self.login, f"dry-run://issues/{issue}#{self._next_id}"
        )
        self._next_id += 1
        self._comments.setdefault(issue, []).append(ref)
        return ref

    def edit_comment(self, comment_id: int, body: str) -> None:
        """Record the edit that would be made."""
        what = f"edit comment {comment_id} on {self._issue_of(comment_id)}: {first_line(body)}"
        self._record("edit_comment", what, comment_id=comment_id, body=body)
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
        verb = "close" if state == "closed" else "reopen"
        what = f"{verb} {self._issue(issue)}" + (f" as {reason}" if reason else "")
        self._record("set_issue_state", what, issue=issue, state=state, reason=reason)

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> int:
        """Record the issue that would be filed; its number is 0."""
        where = self.repository or "(no repository)"
        what = f"open an issue in {where}: {first_line(title)} labels {list(labels)}"
        self._record("create_issue", what, title=title, body=body, labels=list(labels))
        return 0

    def find_issue(self, text: str, *, since: datetime | None = None) -> int | None:
        """Find nothing: a dry run files nothing."""
        return None

    def bot_login(self) -> str:
        """Return the configured login."""
        return self.login

    def find_check_run(self, sha: str, name: str, external_id: str) -> int | None:
        """Find a check run recorded by this dry run."""
        return self._check_runs.get((sha, name, external_id))

    def create_check_run(self, write: CommitVerdictWrite) -> int:
        """Record the check run that would be created."""
        where = self.repository or "(no repository)"
        what = (
            f"create check run {write.name!r} on {where}@{write.sha[:12]}"
            f" ({write.conclusion}): {first_line(write.title)}"
        )
        self._record(
            "create_check_run", what, sha=write.sha, name=write.name, conclusion=write.conclusion,
            title=write.title, details_url=write.details_url, body=write.summary,
        )  # fmt: skip
        check_run_id = self._next_id
        self._next_id += 1
        self._check_runs[(write.sha, write.name, write.external_id)] = check_run_id
        return check_run_id

    def update_check_run(self, check_run_id: int, write: CommitVerdictWrite) -> None:
        """Record the check run update that would be made."""
        what = f"update check run {check_run_id} ({write.conclusion}): {first_line(write.title)}"
        self._record(
            "update_check_run", what, check_run_id=check_run_id, conclusion=write.conclusion,
            title=write.title, body=write.summary,
        )  # fmt: skip

    def set_commit_status(self, write: CommitVerdictWrite, *, state: str) -> None:
        """Record the commit status that would be posted."""
        where = self.repository or "(no repository)"
        what = (
            f"set status {write.name!r} on {where}@{write.sha[:12]}"
            f" ({state}): {first_line(write.title)}"
        )
        self._record(
            "set_commit_status", what, sha=write.sha, context=write.name, state=state,
            description=write.title, target_url=write.details_url,
        )  # fmt: skip


_VERDICTS_CHECK: type[CommitVerdictGateway] = DryRunGateway


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
