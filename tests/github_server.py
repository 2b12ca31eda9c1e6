"""A fake GitHub REST server over real HTTP on 127.0.0.1: records requests, injects faults."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.github.contract import R, app_endpoint, assert_rest_contract
from tests.github.fake_state import (
    BOT_LOGIN,
    TOKEN,
    Fault,
    GitHubState,
    Recorded,
    _iso,
    _issue,
    _user,
)

__all__ = [
    "BOT_LOGIN",
    "TOKEN",
    "Fault",
    "GitHubState",
    "Recorded",
    "assert_rest_contract",
    "fake_github",
    "running_github",
]

Route = Callable[["_Handler", GitHubState, re.Match[str]], tuple[int, Any]]
_ROUTES: list[tuple[str, re.Pattern[str], Route]] = []


def _route(method: str, pattern: str) -> Callable[[Route], Route]:
    def register(func: Route) -> Route:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), func))
        return func

    return register


@_route("GET", "/user")
def _get_user(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    return 200, _user(s.login)


@_route("GET", "/app")
def _get_app(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    return 200, {"id": 1, "slug": s.app_slug, "name": s.app_slug, "owner": _user("acme")}


@_route("POST", r"/app/installations/(?P<id>\d+)/access_tokens")
def _installation_token(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    token = f"ghs_{secrets.token_hex(12)}"
    s.installation_tokens.add(token)
    s.token_installations[token] = int(m["id"])
    return 201, {"token": token, "expires_at": "2099-01-01T00:00:00Z", "permissions": {}}


@_route("GET", R + r"/installation")
def _repo_installation(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    if s.installation_id is None or f"{m['owner']}/{m['name']}" != s.repo:
        return 404, {"message": "Not Found"}
    owner = _user(m["owner"])
    return 200, {
        "id": s.installation_id,
        "account": owner,
        "app_id": 1,
        "app_slug": s.app_slug,
        "target_id": owner["id"],
        "target_type": "Organization",
        "repository_selection": "selected",
        "access_tokens_url": f"{s.base_url}/app/installations/{s.installation_id}/access_tokens",
        "permissions": {"issues": "write", "actions": "read", "metadata": "read"},
        "events": ["issues", "issue_comment", "workflow_run"],
    }


@_route("GET", R + r"/issues/(?P<n>\d+)/comments")
def _list_comments(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    found = s.listed_on(int(m["n"]))
    since = h.query.get("since")
    if since:
        found = [c for c in found if c["updated_at"] >= since]
    return h.paged(found)


@_route("POST", R + r"/issues/(?P<n>\d+)/comments")
def _create_comment(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    number = int(m["n"])
    if number not in s.issues:
        return 404, {"message": "Not Found"}
    body = (h.body or {}).get("body")
    if not isinstance(body, str) or not body:
        return 422, {"message": "Validation Failed"}
    if len(body) > 65536:
        return 422, {"message": "Body is too long (maximum is 65536 characters)"}
    comment = s.add_comment(number, body)
    return 201, comment


@_route("PATCH", R + r"/issues/comments/(?P<id>\d+)")
def _edit_comment(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    comment = s.comments.get(int(m["id"]))
    if comment is None or not s.visible(comment["id"]):
        return 404, {"message": "Not Found"}
    body = (h.body or {}).get("body")
    if not isinstance(body, str) or len(body) > 65536:
        return 422, {"message": "Validation Failed"}
    comment["body"] = body
    comment["updated_at"] = _iso(s.now())
    return 200, comment


@_route("GET", R + r"/issues/(?P<n>\d+)")
def _get_issue(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    issue = s.issues.get(int(m["n"]))
    return (200, issue) if issue else (404, {"message": "Not Found"})


@_route("PATCH", R + r"/issues/(?P<n>\d+)")
def _edit_issue(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    issue = s.issues.get(int(m["n"]))
    if issue is None:
        return 404, {"message": "Not Found"}
    body = h.body or {}
    if body.get("state") not in (None, "open", "closed"):
        return 422, {"message": "Validation Failed"}
    for key in ("state", "state_reason", "title", "body"):
        if key in body:
            issue[key] = body[key]
    return 200, issue


@_route("GET", R + r"/issues")
def _list_issues(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    found = list(s.issues.values())
    if h.query.get("state", "open") != "all":
        found = [i for i in found if i["state"] == h.query.get("state", "open")]
    if "creator" in h.query:
        found = [i for i in found if i["user"]["login"] == h.query["creator"]]
    return h.paged(found)


@_route("POST", R + r"/issues")
def _create_issue(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    body = h.body or {}
    if not isinstance(body.get("title"), str) or not body["title"]:
        return 422, {"message": "Validation Failed"}
    number = max(s.issues, default=0) + 1
    labels = body.get("labels") or []
    s.issues[number] = _issue(s, number, body["title"], body.get("body", ""), labels, s.login)
    return 201, s.issues[number]


@_route("GET", R + r"/collaborators/(?P<user>[^/]+)/permission")
def _permission(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    role = s.roles.get(m["user"], "none")
    legacy = {"maintain": "write", "triage": "read"}.get(role, role)
    return 200, {"permission": legacy, "role_name": role, "user": _user(m["user"])}


@_route("GET", R + r"/actions/runs/(?P<run>\d+)/artifacts")
def _artifacts(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    run = s.artifacts.get(int(m["run"]), {})
    items = [
        {
            "id": aid,
            "name": a["name"],
            "size_in_bytes": len(a["data"]),
            "expired": a["expired"],
            "archive_download_url": f"{s.base_url}/repos/{s.repo}/actions/artifacts/{aid}/zip",
        }
        for aid, a in run.items()
    ]
    return 200, {"total_count": len(items), "artifacts": items}


@_route("GET", R + r"/actions/artifacts/(?P<id>\d+)/zip")
def _download(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    for run in s.artifacts.values():
        if int(m["id"]) in run:
            token = secrets.token_hex(8)
            s.blobs[token] = (run[int(m["id"])]["data"], time.monotonic() + 60)
            h.extra_headers["Location"] = f"{s.base_url}/_blobs/{token}?sig=x"
            return 302, None
    return 404, {"message": "Not Found"}


# --- check runs (GitHub Apps only) and commit statuses --------------------------------------

_CONCLUSIONS = frozenset({"action_required", "cancelled", "failure", "neutral", "success"})


def _check_run_fields(h: _Handler, run: dict[str, Any], body: dict[str, Any]) -> bool:
    """Apply a create's or update's fields to a check run; False when GitHub would answer 422."""
    status = body.get("status", run.get("status", "queued"))
    conclusion = body.get("conclusion", run.get("conclusion"))
    if status not in ("queued", "in_progress", "completed") or (
        status == "completed" and conclusion not in _CONCLUSIONS
    ):
        return False
    run["status"], run["conclusion"] = status, conclusion
    for key in ("name", "details_url", "external_id"):
        if key in body:
            run[key] = body[key]
    if "output" in body:
        output = body["output"]
        if not isinstance(output, dict) or not {"title", "summary"} <= set(output):
            return False
        run["output"] = {**run["output"], **output}
    run["completed_at"] = _iso(h.state.now()) if status == "completed" else None
    return True


def _app_token(h: _Handler) -> bool:
    """Only a GitHub App (an installation token) may write check runs."""
    credential = (h.headers.get("Authorization") or "").partition(" ")[2]
    return credential in h.state.installation_tokens


@_route("POST", R + r"/check-runs")
def _create_check_run(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    if not _app_token(h):
        return 403, {"message": "Resource not accessible by personal access token"}
    body = h.body or {}
    if not isinstance(body.get("name"), str) or not isinstance(body.get("head_sha"), str):
        return 422, {"message": "Validation Failed"}
    cid = s.new_id()
    run: dict[str, Any] = {
        "id": cid,
        "head_sha": body["head_sha"],
        "url": f"{s.base_url}/repos/{s.repo}/check-runs/{cid}",
        "html_url": f"https://github.test/{s.repo}/runs/{cid}",
        "external_id": "",
        "details_url": None,
        "started_at": _iso(s.now()),
        "output": {"title": None, "summary": None, "text": None, "annotations_count": 0},
        "app": {"slug": s.app_slug},
    }
    if not _check_run_fields(h, run, body):
        return 422, {"message": "Validation Failed"}
    s.check_runs[cid] = run
    return 201, run


@_route("PATCH", R + r"/check-runs/(?P<id>\d+)")
def _update_check_run(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    if not _app_token(h):
        return 403, {"message": "Resource not accessible by personal access token"}
    run = s.check_runs.get(int(m["id"]))
    if run is None:
        return 404, {"message": "Not Found"}
    updated = dict(run, output=dict(run["output"]))
    if not _check_run_fields(h, updated, h.body or {}):
        return 422, {"message": "Validation Failed"}
    run.update(updated)
    return 200, run


@_route("GET", R + r"/commits/(?P<ref>[^/]+)/check-runs")
def _list_check_runs(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    found = s.check_runs_on(m["ref"], h.query.get("check_name"))
    _, page = h.paged(found)  # GitHub pages the list inside an object
    return 200, {"total_count": len(found), "check_runs": page}


@_route("POST", R + r"/statuses/(?P<sha>[0-9a-f]{40})")
def _create_status(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    body = h.body or {}
    if body.get("state") not in ("error", "failure", "pending", "success"):
        return 422, {"message": "Validation Failed"}
    sid = s.new_id()
    status = {
        "id": sid,
        "sha": m["sha"],
        "state": body["state"],
        "description": body.get("description"),
        "target_url": body.get("target_url"),
        "context": body.get("context") or "default",
        "creator": _user(s.login),
        "created_at": _iso(s.now()),
        "updated_at": _iso(s.now()),
    }
    s.statuses.append(status)
    return 201, status


@_route("GET", R + r"/commits/(?P<ref>[^/]+)/status")
def _combined_status(h: _Handler, s: GitHubState, m: re.Match[str]) -> tuple[int, Any]:
    return 200, s.combined_status(m["ref"])


class _Handler(BaseHTTPRequestHandler):
    state: GitHubState
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: avoid 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.body = json.loads(raw) if raw else None
        self.extra_headers: dict[str, str] = {}
        s = self.state
        with s.lock:
            s.requests.append(
                Recorded(
                    self.command, split.path, self.query, dict(self.headers), self.body, s.now()
                )
            )
        if split.path.startswith("/_blobs/"):
            self._blob(split.path.removeprefix("/_blobs/"))
            return
        if not self._authorized(split.path):
            self._send(401, {"message": "Bad credentials"})
            return
        for method, pattern, func in _ROUTES:
            found = pattern.match(split.path)
            if method == self.command and found:
                self._dispatch(func, found)
                return
        self._send(404, {"message": "Not Found"})

    def _authorized(self, path: str) -> bool:
        """Accept the token, an installation token, or a JWT on the App's own endpoints."""
        scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
        if app_endpoint(path):
            return scheme == "Bearer" and credential.count(".") == 2  # an App's JWT
        if scheme in ("token", "Bearer") and credential == self.state.token:
            return True
        return credential in self.state.installation_tokens

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815 - stdlib names

    def _dispatch(self, func: Route, found: re.Match[str]) -> None:
        fault = self._take_fault()
        if fault is not None and fault.kind in ("late", "drop"):
            self._applied_then_unanswered(func, found, fault)
            return
        if fault is not None and fault.kind in ("lost", "timeout"):
            if fault.kind == "lost" or fault.apply:
                with self.state.lock:
                    func(self, self.state, found)
            if fault.kind == "timeout":
                time.sleep(fault.delay)
                self._send(504, {"message": "timed out"})
            else:
                self._send(502, {"message": "Server Error"})
            return
        if fault is not None:
            self._send_fault(fault)
            return
        with self.state.lock:
            status, payload = func(self, self.state, found)
        self._send(status, payload)

    def _applied_then_unanswered(self, func: Route, found: re.Match[str], fault: Fault) -> None:
        """Perform the write (late: complete it later on the fake's clock), answer nothing."""
        with self.state.lock:
            status, payload = func(self, self.state, found)
            if fault.kind == "late" and status == 201 and "issue_url" in payload:
                self.state.complete_late(payload, fault.delay)
        if fault.kind == "drop":
            self.close_connection = True  # the client sees the connection closed, no answer
            return
        time.sleep(fault.hold)  # past the client's time-out
        self._send(504, {"message": "timed out"})

    def _take_fault(self) -> Fault | None:
        with self.state.lock:
            for fault in self.state.faults:
                if fault.method == self.command and re.search(fault.path, self.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.state.faults.remove(fault)
                    return fault
        return None

    def _send_fault(self, fault: Fault) -> None:
        if fault.kind == "404":
            self._send(404, {"message": "Not Found"})
        elif fault.kind == "5xx":
            self._send(502, {"message": "Server Error"})
        elif fault.kind == "secondary":
            self.extra_headers["Retry-After"] = str(fault.retry_after)
            self._send(403, {"message": "You have exceeded a secondary rate limit."})
        elif fault.kind == "429":
            self.extra_headers["Retry-After"] = str(fault.retry_after)
            self._send(429, {"message": "Too Many Requests"})
        elif fault.kind == "primary":
            self.extra_headers["x-ratelimit-remaining"] = "0"
            self.extra_headers["x-ratelimit-reset"] = str(int(time.time()) + fault.retry_after)
            self._send(403, {"message": "API rate limit exceeded for user."})
        else:
            raise ValueError(f"unknown fault {fault.kind}")

    def paged(self, items: list[dict[str, Any]]) -> tuple[int, Any]:
        """Answer one page and a Link header, as GitHub paginates."""
        per_page = min(int(self.query.get("per_page", 30)), 100)
        page = int(self.query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        path = urlsplit(self.path).path
        others = "".join(
            f"&{k}={v}" for k, v in self.query.items() if k not in ("page", "per_page")
        )
        links = []
        url = f"{self.state.base_url}{path}"
        if page < last:
            links.append(f'<{url}?page={page + 1}&per_page={per_page}{others}>; rel="next"')
            links.append(f'<{url}?page={last}&per_page={per_page}{others}>; rel="last"')
        if links:
            self.extra_headers["Link"] = ", ".join(links)
        return 200, items[(page - 1) * per_page : page * per_page]

    def _blob(self, token: str) -> None:
        data, expires = self.state.blobs.get(token, (b"", 0.0))
        if time.monotonic() > expires or "Authorization" in self.headers:
            self._send(403, {"message": "expired or signed URL misused"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, payload: Any) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ratelimit-limit", "5000")
        for key, value in self.extra_headers.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)  # the client may have given up (a timeout fault)


@contextmanager
def running_github(state: GitHubState | None = None) -> Iterator[GitHubState]:
    """Run the fake GitHub on a free port of 127.0.0.1 for the duration of the block."""
    state = state or GitHubState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_github() -> Iterator[GitHubState]:
    """A fake GitHub for any test module: `from tests.github_server import fake_github`."""
    with running_github() as state:
        yield state
        assert_rest_contract(state.requests)
