"""The GitHubGateway port over PyGithub, for one repository; only this package imports PyGithub."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from github import Github

from bot.config import Settings
from bot.core.errors import TriageError
from bot.github.auth import TIMEOUT_S, app_bot_login, build_client, credentials
from bot.github.dryrun import DryRunGateway, ReadThroughDryRun
from bot.github.errors import mapped
from bot.ports.github import (
    ArtifactInfo,
    CommentRef,
    CommitVerdictGateway,
    CommitVerdictWrite,
    GitHubError,
    GitHubGateway,
    IssueBody,
)
from bot.ports.store import IssueState

# GitHub's documented media type; PyGithub itself sends Accept: */* on JSON calls.
ACCEPT = {"Accept": "application/vnd.github+json"}


class PyGithubGateway:
    """Talk to GitHub's REST API for the configured repository."""

    def __init__(
        self,
        client: Github | Callable[[], Github],
        repository: str,
        *,
        login: str | None = None,
        app_settings: Settings | None = None,
    ) -> None:
        # A callable connects on first use: a GitHub App then looks up its installation.
        self._client = client if isinstance(client, Github) else None
        self._connect = None if isinstance(client, Github) else client
        self._lock = threading.Lock()
        self._repo_name = repository
        self._login = login
        self._app_settings = app_settings  # set for a GitHub App: its login comes from GET /app

    @property
    def _gh(self) -> Github:
        """Return the client, connecting on first use (a failed connect is tried again)."""
        with self._lock:
            if self._client is None:
                assert self._connect is not None
                self._client = self._connect()
            return self._client

    def _json(
        self, verb: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> tuple[dict[str, Any], Any]:
        """Send one request with GitHub's media type; return (headers, JSON)."""
        headers, data = self._gh.requester.requestJsonAndCheck(
            verb, path, parameters=params, headers=dict(ACCEPT), input=body
        )
        return {k.lower(): v for k, v in headers.items()}, data

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Yield the items of every page, following the Link header's next URL."""
        url: str | None = path
        query: dict[str, Any] | None = {**(params or {}), "per_page": 100}
        while url is not None:
            headers, data = self._json("GET", url, params=query)
            yield from data
            url, query = _next_link(headers.get("link", "")), None

    @property
    def _base(self) -> str:
        return f"/repos/{self._repo_name}"

    def list_run_artifacts(self, run_id: int) -> list[ArtifactInfo]:
        """List a workflow run's artifacts."""
        with mapped("list run artifacts"):
            _, data = self._json(
                "GET", f"{self._base}/actions/runs/{run_id}/artifacts", params={"per_page": 100}
            )
        return [
            ArtifactInfo(int(a["id"]), a["name"], int(a["size_in_bytes"]), bool(a["expired"]))
            for a in data.get("artifacts", [])
        ]

    def download_artifact(self, artifact_id: int, *, max_bytes: int) -> bytes:
        """Fetch the artifact zip: GitHub answers 302 to a short-lived URL, fetched without auth."""
        path = f"{self._base}/actions/artifacts/{artifact_id}/zip"
        with mapped("download artifact"):
            status, headers, _ = self._gh.requester.requestJson("GET", path, headers=dict(ACCEPT))
        location = {k.lower(): v for k, v in headers.items()}.get("location")
        if status != 302 or not location:
            raise GitHubError(
                "github_not_found" if status == 404 else "github_rejected",
                f"GitHub answered {status} to download artifact {artifact_id}",
                status=status,
                transient=status >= 500,
            )
        try:
            return _fetch_capped(location, max_bytes)
        except httpx.HTTPError as exc:
            raise GitHubError(
                "github_unreachable",
                f"artifact storage failed: {type(exc).__name__}",
                transient=True,
            ) from None

    def permission(self, username: str) -> str:
        """Return the user's role name on the repository."""
        with mapped("permission"):
            _, data = self._json(
                "GET", f"{self._base}/collaborators/{quote(username, safe='')}/permission"
            )
        return str(data.get("role_name") or data.get("permission") or "none")

    def create_comment(self, issue: int, body: str) -> CommentRef:
        """Post a comment on an issue."""
        with mapped("create comment"):
            _, data = self._json(
                "POST", f"{self._base}/issues/{issue}/comments", body={"body": body}
            )
        return _ref(data)

    def edit_comment(self, comment_id: int, body: str) -> None:
        """Replace a comment's body."""
        with mapped("edit comment"):
            self._json("PATCH", f"{self._base}/issues/comments/{comment_id}", body={"body": body})

    def list_comments(self, issue: int, *, since: datetime | None = None) -> list[CommentRef]:
        """List an issue's comments, following pagination."""
        params = {"since": _iso(since)} if since else None
        with mapped("list comments"):
            return [_ref(c) for c in self._pages(f"{self._base}/issues/{issue}/comments", params)]

    def set_issue_state(self, issue: int, state: str, reason: str | None) -> None:
        """Open or close an issue."""
        body: dict[str, Any] = {"state": state}
        if reason:
            body["state_reason"] = reason
        with mapped("set issue state"):
            self._json("PATCH", f"{self._base}/issues/{issue}", body=body)

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> int:
        """File an issue and return its number."""
        payload = {"title": title, "body": body, "labels": list(labels)}
        with mapped("create issue"):
            _, data = self._json("POST", f"{self._base}/issues", body=payload)
        return int(data["number"])

    def find_issue(self, text: str, *, since: datetime | None = None) -> int | None:
        """Return the number of an issue the bot opened whose body contains `text`."""
        params: dict[str, Any] = {"state": "all", "creator": self.bot_login()}
        if since is not None:
            params["since"] = _iso(since)
        with mapped("list issues"):
            for found in self._pages(f"{self._base}/issues", params):
                if text in (found.get("body") or ""):
                    return int(found["number"])
        return None

    def issue_states(self, numbers: Sequence[int]) -> list[IssueState]:
        """Read the known issues' state from GitHub, one GET each (there are a handful).

        The state's time is when it last changed (closed_at for a closed issue), not
        updated_at, which every comment moves. An issue GitHub does not have is left out.
        """
        found = []
        for number in numbers:
            try:
                with mapped("get issue"):
                    _, data = self._json("GET", f"{self._base}/issues/{int(number)}")
            except GitHubError as exc:
                if exc.status in (404, 410):
                    continue
                raise
            changed = data.get("closed_at") if data.get("state") == "closed" else None
            when = _parse_time(changed or data.get("created_at"))
            found.append(
                IssueState(
                    int(data["number"]), str(data["state"]), str(data.get("title") or ""),
                    data.get("state_reason"), when,
                )
            )  # fmt: skip
        return found

    def issue_body(self, number: int) -> IssueBody | None:
        """Read one issue's Markdown body (the tracking issue's task list); None if absent."""
        try:
            with mapped("get issue"):
                _, data = self._json("GET", f"{self._base}/issues/{int(number)}")
        except GitHubError as exc:
            if exc.status in (404, 410):
                return None
            raise
        body = data.get("body")
        when = _parse_time(data.get("updated_at") or data.get("created_at"))
        return IssueBody(int(data["number"]), body if isinstance(body, str) else "", when)

    def find_check_run(self, sha: str, name: str, external_id: str) -> int | None:
        """Return the id of the commit's check run with this name and external id."""
        path = f"{self._base}/commits/{quote(sha, safe='')}/check-runs"
        params: dict[str, Any] | None = {"check_name": name, "filter": "all", "per_page": 100}
        url: str | None = path
        with mapped("list check runs"):
            while url is not None:
                headers, data = self._json("GET", url, params=params)
                for found in data.get("check_runs", []):
                    if found.get("name") == name and found.get("external_id") == external_id:
                        return int(found["id"])
                url, params = _next_link(headers.get("link", "")), None
        return None

    def create_check_run(self, write: CommitVerdictWrite) -> int:
        """Create a completed check run on the commit; return its id."""
        body = {"name": write.name, "head_sha": write.sha, "external_id": write.external_id}
        with mapped("create check run"):
            _, data = self._json(
                "POST", f"{self._base}/check-runs", body={**body, **_check_fields(write)}
            )
        return int(data["id"])

    def update_check_run(self, check_run_id: int, write: CommitVerdictWrite) -> None:
        """Bring a check run to the verdict's conclusion and output."""
        with mapped("update check run"):
            self._json(
                "PATCH", f"{self._base}/check-runs/{int(check_run_id)}", body=_check_fields(write)
            )

    def set_commit_status(self, write: CommitVerdictWrite, *, state: str) -> None:
        """Post a commit status; GitHub shows the newest one of its context."""
        body: dict[str, Any] = {"state": state, "description": write.title, "context": write.name}
        if write.details_url:
            body["target_url"] = write.details_url
        with mapped("create commit status"):
            self._json("POST", f"{self._base}/statuses/{quote(write.sha, safe='')}", body=body)

    def bot_login(self) -> str:
        """Return the login this gateway writes as (asked of GitHub once)."""
        if self._login is None:
            with mapped("get the authenticated user"):
                if self._app_settings is not None:
                    self._login = app_bot_login(self._app_settings)
                else:
                    self._login = str(self._json("GET", "/user")[1]["login"])
        return self._login

    def close(self) -> None:
        """Release the HTTP connections."""
        if self._client is not None:
            self._client.close()


def _check_fields(write: CommitVerdictWrite) -> dict[str, Any]:
    """The fields a check run's create and update share: completed, conclusion, output."""
    fields: dict[str, Any] = {
        "status": "completed",
        "conclusion": write.conclusion,
        "output": {"title": write.title, "summary": write.summary},
    }
    if write.details_url:
        fields["details_url"] = write.details_url
    return fields


_VERDICTS_CHECK: type[CommitVerdictGateway] = PyGithubGateway


def _ref(data: dict[str, Any]) -> CommentRef:
    user = data.get("user") or {}
    return CommentRef(
        int(data["id"]), data.get("body") or "", user.get("login", ""), data["html_url"]
    )


def _parse_time(text: object) -> datetime:
    """Read GitHub's ISO 8601 time; a missing one is the epoch (it never wins over ours)."""
    if not isinstance(text, str):
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_link(link: str) -> str | None:
    """Return the rel="next" URL of a Link header."""
    for part in link.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


def _fetch_capped(url: str, max_bytes: int) -> bytes:
    """GET a URL in chunks and stop with too_large once max_bytes is passed."""
    too_large = TriageError("too_large", f"the artifact is larger than {max_bytes} bytes")
    with httpx.stream("GET", url, timeout=TIMEOUT_S, follow_redirects=False) as response:
        if response.status_code != 200:
            raise GitHubError(
                "github_unavailable" if response.status_code >= 500 else "github_rejected",
                f"artifact storage answered {response.status_code}",
                status=response.status_code,
                transient=response.status_code >= 500,
            )
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            chunks.append(chunk)
    return b"".join(chunks)


def make_gateway(
    settings: Settings, *, installation_id: int | None = None, timeout: int = TIMEOUT_S
) -> tuple[GitHubGateway, bool]:
    """Return the gateway for the settings and whether it is a dry run (no credentials).

    An App without an installation id (none from the delivery, none configured) finds the
    repository's installation on the first call, so making the gateway needs no network.
    """
    creds = credentials(settings, installation_id)
    login = settings.github_bot_login or "triage-bot[dry-run]"
    if creds is None or not settings.github_repository:
        return DryRunGateway(login=login, repository=settings.github_repository), True
    gateway = PyGithubGateway(
        lambda: build_client(settings, creds, timeout=timeout),
        settings.github_repository,
        login=settings.github_bot_login,
        app_settings=settings if creds.kind == "app" else None,
    )
    if settings.github_dry_run:
        # With credentials, a dry run still reads (artifacts, permissions): only writes wait.
        return ReadThroughDryRun(
            login=login, repository=settings.github_repository, reads=gateway
        ), True
    return gateway, False
