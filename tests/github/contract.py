"""GitHub's documented REST contract for the calls the bot makes, checked on recorded requests."""

from __future__ import annotations

import re
from datetime import datetime

from tests.github.fake_state import Recorded

R = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"

CHECK_RUN_FIELDS = frozenset(
    {"details_url", "external_id", "status", "started_at", "conclusion", "completed_at", "output"}
)
CONCLUSIONS = {"action_required", "cancelled", "failure", "neutral", "success", "skipped"}

# GitHub's documented REST contract for the calls the bot makes: method, path, body fields.
CONTRACT: list[tuple[str, re.Pattern[str], frozenset[str]]] = [
    ("GET", re.compile(r"^/user$"), frozenset()),
    ("GET", re.compile(r"^/app$"), frozenset()),
    ("POST", re.compile(r"^/app/installations/\d+/access_tokens$"), frozenset({"permissions"})),
    ("GET", re.compile(R + r"/installation$"), frozenset()),
    ("GET", re.compile(R + r"/issues/\d+/comments$"), frozenset()),
    ("POST", re.compile(R + r"/issues/\d+/comments$"), frozenset({"body"})),
    ("PATCH", re.compile(R + r"/issues/comments/\d+$"), frozenset({"body"})),
    ("GET", re.compile(R + r"/issues$"), frozenset()),
    ("POST", re.compile(R + r"/issues$"), frozenset({"title", "body", "labels", "assignees"})),
    (
        "PATCH",
        re.compile(R + r"/issues/\d+$"),
        frozenset({"state", "state_reason", "title", "body"}),
    ),
    ("GET", re.compile(R + r"/collaborators/[^/]+/permission$"), frozenset()),
    ("GET", re.compile(R + r"/actions/runs/\d+/artifacts$"), frozenset()),
    ("GET", re.compile(R + r"/actions/artifacts/\d+/zip$"), frozenset()),
    ("POST", re.compile(R + r"/check-runs$"), CHECK_RUN_FIELDS | {"name", "head_sha"}),
    ("PATCH", re.compile(R + r"/check-runs/\d+$"), CHECK_RUN_FIELDS | {"name"}),
    ("GET", re.compile(R + r"/commits/[^/]+/check-runs$"), frozenset()),
    (
        "POST",
        re.compile(R + r"/statuses/[0-9a-f]{40}$"),
        frozenset({"state", "target_url", "description", "context"}),
    ),
    ("GET", re.compile(R + r"/commits/[^/]+/status$"), frozenset()),
]


def app_endpoint(path: str) -> bool:
    """Tell whether GitHub wants the App's own JWT on this path (not an installation token)."""
    return path.startswith("/app") or re.match(R + r"/installation$", path) is not None


def assert_rest_contract(requests: list[Recorded]) -> None:
    """Check every API request against GitHub's documented paths, bodies and headers."""
    for r in requests:
        if r.path.startswith("/_blobs/"):
            assert "Authorization" not in r.headers, "auth leaked to the artifact storage URL"
            continue
        matches = [c for c in CONTRACT if c[0] == r.method and c[1].match(r.path)]
        assert matches, f"undocumented call {r.method} {r.path}"
        allowed = matches[0][2]
        body = r.json or {}
        assert set(body) <= allowed, f"{r.method} {r.path}: unknown fields {set(body) - allowed}"
        if r.method != "GET" and "/comments" in r.path:
            assert isinstance(body.get("body"), str)
            assert 0 < len(body["body"]) <= 65536
        assert r.headers.get("Authorization", "").split(" ")[0] in ("token", "Bearer")
        if not app_endpoint(r.path):
            assert r.headers.get("Accept") == "application/vnd.github+json", r.path
            assert r.headers.get("X-GitHub-Api-Version") == "2022-11-28", r.path
        assert r.headers.get("User-Agent"), "GitHub rejects requests without a User-Agent"
        if body:
            assert r.headers.get("Content-Type", "").startswith("application/json")
        if "/check-runs" in r.path and r.method != "GET":
            _check_run_body(body)
        if "/statuses/" in r.path:
            assert body["state"] in ("error", "failure", "pending", "success")
            assert len(body.get("description") or "") <= 140
        if "per_page" in r.query:
            assert 1 <= int(r.query["per_page"]) <= 100
        if "since" in r.query:
            datetime.strptime(r.query["since"], "%Y-%m-%dT%H:%M:%SZ")  # ISO 8601 UTC


def _check_run_body(body: dict[str, object]) -> None:
    """A completed check run needs a conclusion; the output's title and summary are capped."""
    if body.get("status") == "completed" or "completed_at" in body:
        assert body.get("conclusion") in CONCLUSIONS, body.get("conclusion")
    output = body.get("output")
    if output is not None:
        assert isinstance(output, dict)
        assert {"title", "summary"} <= set(output), "output needs a title and a summary"
        assert len(str(output["summary"])) <= 65535
        assert set(output) <= {"title", "summary", "text", "annotations", "images"}
