"""The pytest upload plugin, run in real pytest sessions against a real local HTTP server."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.core.model import Outcome, ReportFormat
from bot.core.reports import read_report_bytes

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-s3cr3t-4f9a1c"  # checked never to be printed

SUITE = """
import pytest

def test_ok():
    assert True

def test_broken():
    assert 1 == 2, "numbers differ"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    raise ValueError("expected")
"""
PASSING = "def test_a():\n    pass\n\ndef test_b():\n    pass\n"


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingServer:
    """A local HTTP server that records requests and answers 201, 500, or not at all."""

    mode: str
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                parts = urlsplit(self.path)
                server.requests.append(
                    Recorded(parts.path, parse_qs(parts.query), dict(self.headers), body)
                )
                if server.mode == "hang":
                    server.release.wait(60)
                    return
                status, answer = (201, {"run_id": 7}) if server.mode == "ok" else (500, {})
                if server.mode == "error":
                    # Echo the credentials back, as a careless proxy might: they must not print.
                    answer = {"error": "internal", "detail": self.headers.get("Authorization")}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


@contextmanager
def servers() -> Iterator[Callable[[str], RecordingServer]]:
    """Start recording servers in a given mode; stop them all afterwards."""
    started: list[RecordingServer] = []

    def start(mode: str) -> RecordingServer:
        server = RecordingServer(mode)
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def scrub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run inner sessions with no TRIAGE_* or GITHUB_* variables, and bot importable."""
    for name in list(os.environ):
        if name.startswith(("TRIAGE_", "GITHUB_")):
            monkeypatch.delenv(name)
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), path])))


@pytest.fixture
def serve() -> Iterator[Callable[[str], RecordingServer]]:
    """Start recording servers; stop them after the test."""
    with servers() as start:
        yield start


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrub the environment of inner sessions."""
    scrub_env(monkeypatch)


def plugin_args() -> list[str]:
    """Load the plugin by module unless its pytest11 entry point is installed already."""
    installed = importlib.metadata.entry_points(group="pytest11")
    if any(ep.value == "bot.pytest_plugin" for ep in installed):
        return []
    return ["-p", "bot.pytest_plugin"]


def run(pytester: pytest.Pytester, *args: str, subprocess: bool = False) -> pytest.RunResult:
    """Run pytest with the plugin and warnings as errors, in this process unless asked."""
    if subprocess:
        return pytester.runpytest_subprocess(*plugin_args(), "-W", "error", *args, timeout=120)
    return pytester.runpytest_inprocess(*plugin_args(), "-W", "error", *args)


def report_lines(recorded: Recorded) -> list[dict[str, Any]]:
    """Decompress and parse an uploaded reportlog body."""
    text = gzip.decompress(recorded.body).decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def outcomes(lines: list[dict[str, Any]], when: str) -> dict[str, str]:
    """Map test name to outcome for one phase."""
    return {
        line["nodeid"].split("::")[-1]: line["outcome"]
        for line in lines
        if line["$report_type"] == "TestReport" and line["when"] == when
    }


def test_upload_is_one_gzip_reportlog_with_token_and_metadata(
    pytester: pytest.Pytester,
    serve: Callable[[str], RecordingServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve("ok")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    monkeypatch.setenv("GITHUB_SHA", "0123abcd")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
    monkeypatch.setenv("GITHUB_RUN_ID", "991")
    pytester.makepyfile(test_suite=SUITE)

    result = run(
        pytester,
        f"--triage-url={server.url}",
        "--triage-token",
        TOKEN,
        "--triage-suite=e2e",
        "--triage-environment=qa",
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert sent.path == "/api/v1/runs"
    assert sent.headers["Content-Encoding"] == "gzip"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    query = {key: values[0] for key, values in sent.query.items()}
    assert query["suite"] == "e2e"
    assert query["environment"] == "qa"
    assert query["branch"] == "main"
    assert query["commit"] == "0123abcd"
    assert query["ci_url"] == "https://github.example/acme/shop/actions/runs/991"
    assert datetime.fromisoformat(query["started_at"]).tzinfo is not None
    lines = report_lines(sent)
    assert lines[0] == {"pytest_version": pytest.__version__, "$report_type": "SessionStart"}
    assert lines[-1] == {"exitstatus": 1, "$report_type": "SessionFinish"}
    assert outcomes(lines, "call") == {
        "test_ok": "passed",
        "test_broken": "failed",
        "test_expected_failure": "skipped",
    }
    assert outcomes(lines, "setup")["test_skipped"] == "skipped"
    xfail = [ln for ln in lines if ln.get("nodeid", "").endswith("test_expected_failure")]
    assert any("wasxfail" in ln for ln in xfail)
    broken = next(ln for ln in lines if ln.get("outcome") == "failed")
    assert "numbers differ" in broken["longrepr"]["reprcrash"]["message"]
    assert any(ln["$report_type"] == "CollectReport" for ln in lines)
    # The service's own reader takes the body as it arrives, gzip and all.
    parsed = read_report_bytes(sent.body)
    assert parsed.format == ReportFormat.REPORT_LOG
    assert parsed.exitcode == 1
    assert {t.nodeid.split("::")[-1]: t.outcome for t in parsed.tests} == {
        "test_ok": Outcome.PASSED,
        "test_broken": Outcome.FAILED,
        "test_skipped": Outcome.SKIPPED,
        "test_expected_failure": Outcome.XFAILED,
    }
    assert len(parsed.failures) == 1
    assert "numbers differ" in parsed.failures[0].message
    result.stdout.fnmatch_lines(
        ["*triage: report uploaded to http://127.0.0.1:*/api/v1/runs (run 7)*"]
    )
    assert TOKEN not in result.stdout.str() + result.stderr.str()


def test_environment_variables_alone_turn_the_upload_on(
    pytester: pytest.Pytester,
    serve: Callable[[str], RecordingServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve("ok")
    monkeypatch.setenv("TRIAGE_URL", server.url + "/")
    monkeypatch.setenv("TRIAGE_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_SUITE", "nightly")
    pytester.makepyfile(test_suite=PASSING)

    result = run(pytester)

    assert result.ret == pytest.ExitCode.OK
    assert len(server.requests) == 1
    assert server.requests[0].query["suite"] == ["nightly"]
    assert server.requests[0].query["environment"] == ["staging"]
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "branch" not in server.requests[0].query
    assert TOKEN not in result.stdout.str() + result.stderr.str()


def test_collection_error_is_uploaded_with_its_exit_status(
    pytester: pytest.Pytester, serve: Callable[[str], RecordingServer]
) -> None:
    server = serve("ok")
    pytester.makepyfile(test_suite="import no_such_module_here\n")

    result = run(pytester, f"--triage-url={server.url}")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    lines = report_lines(server.requests[0])
    failed = [
        ln for ln in lines if ln["$report_type"] == "CollectReport" and ln["outcome"] == "failed"
    ]
    assert "no_such_module_here" in failed[0]["longrepr"]
    assert lines[-1] == {"exitstatus": 2, "$report_type": "SessionFinish"}
    assert "Authorization" not in server.requests[0].headers


def test_under_xdist_only_the_controller_uploads(
    pytester: pytest.Pytester, serve: Callable[[str], RecordingServer]
) -> None:
    server = serve("ok")
    pytester.makepyfile(test_suite=SUITE, test_more=PASSING)

    result = run(
        pytester,
        "-n",
        "2",
        f"--triage-url={server.url}",
        f"--triage-token={TOKEN}",
        subprocess=True,
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert len(server.requests) == 1
    calls = outcomes(report_lines(server.requests[0]), "call")
    assert calls == {
        "test_ok": "passed",
        "test_broken": "failed",
        "test_expected_failure": "skipped",
        "test_a": "passed",
        "test_b": "passed",
    }
