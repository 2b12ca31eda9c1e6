"""What the fake GitHub holds: issues, comments, artifacts, recorded requests, faults."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN = "ghp_fake_token_for_tests"
BOT_LOGIN = "triage-bot"


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    at: datetime | None = None  # the fake's clock when the request arrived


@dataclass
class Fault:
    """Answer the next `times` requests matching method and path pattern with a fault.

    kind: "5xx", "secondary" (403 + Retry-After), "429" (Retry-After), "primary" (403 +
    x-ratelimit-remaining 0 + x-ratelimit-reset), "timeout" (stall `delay` s), "lost" (perform the
    write, then answer 502, as if the response was lost). "timeout" also performs the write when
    `apply` is true. "late": GitHub completes the write `delay` s later on the fake's clock (the
    comment is held but listed and editable only then) and holds its answer `hold` real seconds,
    past the client's time-out, then answers 504. "drop": perform the write, then close the
    connection without answering. "404": answer 404 Not Found without doing anything.
    """

    method: str
    path: str
    kind: str
    times: int = 1
    retry_after: int = 2
    delay: float = 2.0
    apply: bool = False
    hold: float = 1.5


@dataclass
class GitHubState:
    """Everything the fake GitHub holds, shared with the test."""

    repo: str = "acme/widgets"
    token: str = TOKEN
    login: str = BOT_LOGIN
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    artifacts: dict[int, dict[str, Any]] = field(
        default_factory=dict
    )  # run id -> {id: (name, zip)}
    blobs: dict[str, tuple[bytes, float]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    base_url: str = ""
    app_slug: str = "triage-app"
    installation_tokens: set[str] = field(default_factory=set)
    token_installations: dict[str, int] = field(default_factory=dict)  # token -> installation
    installation_id: int | None = 4242  # the App's installation on `repo`; None: not installed
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The fake's clock: the test's clock when given, so late writes show up in test time.
    clock: Callable[[], datetime] | None = None
    hidden_until: dict[int, datetime] = field(default_factory=dict)  # comment id -> completion
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> check run
    statuses: list[dict[str, Any]] = field(default_factory=list)  # every status posted, in order
    _next_id: int = 1000

    def now(self) -> datetime:
        """Return the fake's time."""
        return self.clock() if self.clock is not None else datetime.now(UTC)

    def visible(self, comment_id: int) -> bool:
        """Tell whether GitHub has completed the comment's write by now."""
        until = self.hidden_until.get(comment_id)
        return until is None or self.now() >= until

    def complete_late(self, comment: dict[str, Any], delay: float) -> None:
        """Make a just created comment appear only `delay` s later, stamped with that time."""
        until = self.now() + timedelta(seconds=delay)
        self.hidden_until[comment["id"]] = until
        comment["created_at"] = comment["updated_at"] = _iso(until)

    def new_id(self) -> int:
        """Hand out a fresh id."""
        self._next_id += 1
        return self._next_id

    def add_issue(self, number: int, *, state: str = "open", title: str = "") -> dict[str, Any]:
        """Create an issue as if a person had filed it."""
        issue = _issue(self, number, title or f"Issue {number}", "", [], "someone")
        issue["state"] = state
        self.issues[number] = issue
        return issue

    def add_comment(self, issue: int, body: str, *, login: str | None = None) -> dict[str, Any]:
        """Create a comment directly, as if posted earlier."""
        comment = _comment(self, issue, body, login or self.login)
        self.comments[comment["id"]] = comment
        return comment

    def comments_on(self, issue: int) -> list[dict[str, Any]]:
        """Return the issue's comments, oldest first, completed or not: all GitHub holds."""
        return [c for c in self.comments.values() if c["issue"] == issue]

    def listed_on(self, issue: int) -> list[dict[str, Any]]:
        """Return the issue's comments that GitHub lists by now."""
        return [c for c in self.comments_on(issue) if self.visible(c["id"])]

    def installation_of(self, request: Recorded) -> int | None:
        """Return the installation whose token authorized a recorded request."""
        credential = request.headers.get("Authorization", "").partition(" ")[2]
        return self.token_installations.get(credential)

    def writes(self) -> list[Recorded]:
        """Return the recorded POST, PATCH, PUT and DELETE requests."""
        return [r for r in self.requests if r.method != "GET"]

    def check_runs_on(self, sha: str, name: str | None = None) -> list[dict[str, Any]]:
        """Return the check runs GitHub holds for a commit (of one name), oldest first."""
        return [
            c
            for c in self.check_runs.values()
            if c["head_sha"] == sha and (name is None or c["name"] == name)
        ]

    def combined_status(self, sha: str) -> dict[str, Any]:
        """GitHub's combined status of a commit: the newest status of each context."""
        latest: dict[str, dict[str, Any]] = {}
        for status in self.statuses:
            if status["sha"] == sha:
                latest[status["context"]] = status
        states = [s["state"] for s in latest.values()]
        state = (
            "failure"
            if any(s in ("failure", "error") for s in states)
            else "pending"
            if not states or "pending" in states
            else "success"
        )
        shown = sorted(latest.values(), key=lambda s: s["id"], reverse=True)
        return {"state": state, "sha": sha, "total_count": len(shown), "statuses": shown}

    def add_artifact(self, run_id: int, name: str, data: bytes, *, expired: bool = False) -> int:
        """Attach an artifact zip to a workflow run; return its id."""
        artifact_id = self.new_id()
        run = self.artifacts.setdefault(run_id, {})
        run[artifact_id] = {"name": name, "data": data, "expired": expired}
        return artifact_id


@cache
def app_private_key() -> str:
    """Return a GitHub App's private key (PEM), the same one for the whole session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _now() -> str:
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(login: str) -> dict[str, Any]:
    kind = "Bot" if login.endswith("[bot]") else "User"
    return {"login": login, "id": abs(hash(login)) % 100000, "type": kind}


def _comment(state: GitHubState, issue: int, body: str, login: str) -> dict[str, Any]:
    cid = state.new_id()
    base = f"{state.base_url}/repos/{state.repo}"
    return {
        "id": cid,
        "node_id": f"IC_{cid}",
        "issue": issue,
        "url": f"{base}/issues/comments/{cid}",
        "html_url": f"https://github.test/{state.repo}/issues/{issue}#issuecomment-{cid}",
        "issue_url": f"{base}/issues/{issue}",
        "body": body,
        "user": _user(login),
        "author_association": "NONE",
        "created_at": _iso(state.now()),
        "updated_at": _iso(state.now()),
    }


def _issue(  # noqa: PLR0917 - mirrors GitHub's issue fields
    state: GitHubState, number: int, title: str, body: str, labels: list[str], login: str
) -> dict[str, Any]:
    return {
        "id": state.new_id(),
        "number": number,
        "title": title,
        "body": body,
        "state": "open",
        "state_reason": None,
        "labels": [{"name": name} for name in labels],
        "user": _user(login),
        "url": f"{state.base_url}/repos/{state.repo}/issues/{number}",
        "html_url": f"https://github.test/{state.repo}/issues/{number}",
        "comments": 0,
        "created_at": _now(),
        "updated_at": _now(),
        "closed_at": None,
    }
