"""The upload plugin retries a busy (503) or unreachable service, for a bounded time."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.pytest_plugin_upload import MAX_PAUSE_S, Target, post_report
from tests.test_pytest_plugin import PASSING, TOKEN, run, scrub_env


class Busy:
    """A local service answering 503 (Retry-After: 0) `busy` times, then 201."""

    def __init__(self, busy: int, port: int = 0) -> None:
        self.busy = busy
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests += 1
                status, answer = (503, {"error": "busy", "detail": "retry shortly"})
                if outer.requests > outer.busy:
                    status, answer = 201, {"run_id": 7}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    scrub_env(monkeypatch)


@pytest.fixture
def busy_twice() -> Iterator[Busy]:
    server = Busy(2)
    yield server
    server.stop()


def test_a_busy_service_is_retried_until_it_stores_the_run(
    pytester: pytest.Pytester, busy_twice: Busy
) -> None:
    pytester.makepyfile(test_suite=PASSING)
    result = run(pytester, f"--triage-url={busy_twice.url}", f"--triage-token={TOKEN}")
    assert result.ret == pytest.ExitCode.OK
    assert busy_twice.requests == 3
    assert any(ln.startswith("triage: report uploaded") for ln in result.stdout.lines)


def test_a_service_that_comes_up_late_still_gets_the_report() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = Target(endpoint=f"http://127.0.0.1:{port}/api/v1/runs", token=None, suite="s")
    started: list[Busy] = []

    def sleep(_seconds: float) -> None:
        if not started:  # the first pause: the service starts meanwhile
            started.append(Busy(0, port))

    try:
        outcome = post_report(target, b"x", started_at="2026-11-20T08:00:00Z", sleep=sleep)
    finally:
        for server in started:
            server.stop()
    assert outcome.ok, outcome.message
    assert started[0].requests == 1


def test_retrying_stops_within_the_budget_with_growing_pauses() -> None:
    server = Busy(busy=10**6)
    now = [0.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    target = Target(endpoint=f"{server.url}/api/v1/runs", token=None, suite="s", retry_s=60)
    try:
        outcome = post_report(
            target, b"x", started_at="2026-11-20T08:00:00Z", sleep=sleep, clock=lambda: now[0]
        )
    finally:
        server.stop()
    assert not outcome.ok
    assert "HTTP 503: busy retry shortly" in outcome.message
    assert f"(after {server.requests} attempts)" in outcome.message
    assert sum(pauses) <= 60
    assert pauses[:3] == [0.5, 1.0, 2.0]  # Retry-After: 0 leaves the backoff to the client
    assert max(pauses) <= MAX_PAUSE_S
    assert server.requests == len(pauses) + 1 < 20


def test_no_retry_when_told_not_to(busy_twice: Busy) -> None:
    target = Target(endpoint=f"{busy_twice.url}/api/v1/runs", token=None, suite="s", retry_s=0)
    outcome = post_report(target, b"x", started_at="2026-11-20T08:00:00Z")
    assert not outcome.ok
    assert busy_twice.requests == 1
    assert "after" not in outcome.message
