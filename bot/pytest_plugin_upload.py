"""The pytest plugin's upload: target settings, CI metadata and one bounded POST to /api/v1/runs."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

RUNS_PATH = "/api/v1/runs"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRY_S = 60.0  # how long a busy (503) or unreachable service is retried, in all
RETRY_STATUSES = frozenset({502, 503, 504})
FIRST_PAUSE_S, MAX_PAUSE_S = 0.5, 10.0
USER_AGENT = "triage-bot-pytest-plugin"
ANSWER_MAX = 1024 * 1024  # the answer lists at most a hundred deciding failures


@dataclass(frozen=True)
class Target:
    """Where and how to upload one run's report."""

    endpoint: str
    token: str | None = field(repr=False)
    suite: str
    environment: str = "staging"
    timeout_s: float = DEFAULT_TIMEOUT_S
    retry_s: float = DEFAULT_RETRY_S
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadOutcome:
    """What the upload did, as one line for the terminal."""

    ok: bool
    message: str
    # Set when trying again may help (busy or unreachable service): the pause it asked for.
    retry_after: float | None = field(default=None, compare=False)
    # The run's verdict from the service's answer: pass, known or blocked (None: no answer).
    verdict: str | None = None
    run_id: int | None = None


def runs_endpoint(url: str) -> str:
    """Return the runs endpoint for a service base URL (a full endpoint URL is kept)."""
    stripped = url.strip().rstrip("/")
    if stripped.endswith(RUNS_PATH):
        return stripped
    return stripped + RUNS_PATH


def ci_metadata(env: Mapping[str, str]) -> dict[str, str]:
    """Read branch, commit and ci_url from GitHub Actions variables, TRIAGE_* ones winning."""
    meta: dict[str, str] = {}
    # On pull requests GITHUB_REF_NAME is "<n>/merge"; the head branch is what people know.
    branch = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME")
    if branch:
        meta["branch"] = branch
    if env.get("GITHUB_SHA"):
        meta["commit"] = env["GITHUB_SHA"]
    server, repo, run_id = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repo and run_id:
        meta["ci_url"] = f"{server.rstrip('/')}/{repo}/actions/runs/{run_id}"
    for key in ("branch", "commit", "ci_url"):
        value = env.get(f"TRIAGE_{key.upper()}")
        if value:
            meta[key] = value
    return meta


def build_request(target: Target, body: bytes, *, started_at: str) -> urllib.request.Request:
    """Build the gzip POST carrying the report, its metadata and the bearer token."""
    params = {"suite": target.suite, "environment": target.environment, **target.metadata}
    if started_at:  # else the report's own start time, or the upload's
        params["started_at"] = started_at
    url = f"{target.endpoint}?{urllib.parse.urlencode(params)}"
    headers = {
        "Content-Type": "application/x-ndjson",
        "Content-Encoding": "gzip",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError("the triage URL must start with http:// or https://")
    return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: they would drop the body or carry the token to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_report(
    target: Target,
    body: bytes,
    *,
    started_at: str,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> UploadOutcome:
    """POST the report; retry a busy or unreachable service for target.retry_s; never raise.

    Each attempt is bounded by target.timeout_s; pauses double from FIRST_PAUSE_S (or follow
    the service's Retry-After), and no pause runs past the retry budget.
    """
    try:
        request = build_request(target, body, started_at=started_at)
    except ValueError as exc:
        return UploadOutcome(False, _line(target, str(exc)))
    deadline = clock() + max(0.0, target.retry_s)
    pause, attempts = FIRST_PAUSE_S, 1
    while True:
        outcome = _attempt(request, target)
        remaining = deadline - clock()
        if outcome.ok or outcome.retry_after is None or remaining <= 0:
            break
        sleep(min(outcome.retry_after or pause, MAX_PAUSE_S, remaining))
        pause, attempts = min(pause * 2, MAX_PAUSE_S), attempts + 1
    if attempts > 1 and not outcome.ok:
        return UploadOutcome(False, _tried(outcome.message, attempts))
    return outcome


def _tried(message: str, attempts: int) -> str:
    """Say in a failure line how many attempts were made."""
    head, sep, tail = message.rpartition("; test results are unaffected")
    return f"{head} (after {attempts} attempts){sep}{tail}" if sep else message


def _attempt(request: urllib.request.Request, target: Target) -> UploadOutcome:
    """One POST, bounded by target.timeout_s even when DNS or the server trickles."""
    result: list[UploadOutcome] = []
    worker = threading.Thread(
        target=lambda: result.append(_send(request, target)), name="triage-upload", daemon=True
    )
    worker.start()
    # The socket timeout does not bound DNS look-ups or a trickling server; this join does.
    worker.join(target.timeout_s + 0.5)
    if not result:
        return UploadOutcome(False, _line(target, f"no answer within {target.timeout_s:g} s"))
    return result[0]


def _send(request: urllib.request.Request, target: Target) -> UploadOutcome:
    """Send the request and describe the answer; every error becomes an UploadOutcome."""
    try:
        return _exchange(request, target)
    except Exception as exc:  # the test run must never break on an upload
        return UploadOutcome(False, _line(target, f"{type(exc).__name__}: {exc}"))


def _exchange(request: urllib.request.Request, target: Target) -> UploadOutcome:
    """Send the request; describe HTTP errors, time-outs and unreachable hosts."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=target.timeout_s) as response:
            payload = _json(response.read(ANSWER_MAX))
            run_id = payload.get("run_id", "?")
            verdict = payload.get("verdict")
            status = verdict.get("status") if isinstance(verdict, dict) else None
            return UploadOutcome(
                True,
                f"triage: report uploaded to {display_url(target.endpoint)} (run {run_id})",
                verdict=status if isinstance(status, str) else None,
                run_id=run_id if isinstance(run_id, int) else None,
            )
    except urllib.error.HTTPError as exc:
        with exc:
            payload = _json(exc.read(64 * 1024))
        detail = " ".join(str(payload[k]) for k in ("error", "detail") if k in payload)
        line = _line(target, f"HTTP {exc.code}" + (f": {detail}" if detail else ""))
        if exc.code in RETRY_STATUSES:
            return UploadOutcome(False, line, _retry_after(exc.headers.get("Retry-After")))
        return UploadOutcome(False, line)
    except TimeoutError:
        return UploadOutcome(False, _line(target, f"no answer within {target.timeout_s:g} s"))
    except urllib.error.URLError as exc:
        return UploadOutcome(False, _line(target, f"cannot reach the service ({exc.reason})"), 0.0)
    except ConnectionError as exc:  # reset or refused mid-exchange: the service may be restarting
        return UploadOutcome(False, _line(target, f"cannot reach the service ({exc})"), 0.0)


def _retry_after(value: str | None) -> float:
    """Read a Retry-After of seconds; 0 (our own backoff) when absent or a date."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _json(raw: bytes) -> dict[str, Any]:
    """Parse a JSON object answer, or give an empty dict."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _line(target: Target, what: str) -> str:
    """Format one warning line, without the token and without line breaks."""
    where = display_url(target.endpoint)
    text = f"triage: report not uploaded to {where}: {what}; test results are unaffected"
    text = " ".join(text.split())
    if target.token:
        text = text.replace(target.token, "***")
    return text if len(text) <= 300 else text[:297] + "..."


def display_url(url: str) -> str:
    """Return the URL without user info or query, fit to print."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
