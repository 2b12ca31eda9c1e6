"""A run's verdict: the API, suspect ranges over out-of-order uploads, the CLI and pytest gate."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.web.app import create_app
from tests.web.conftest import API_TOKEN, auth, free_port, make_settings, serving

# A staging-like suite whose failures are switched on by environment variables.
SUITE = """
import os

def test_home():
    pass

def test_cache():
    if os.environ.get("REDIS_DOWN"):
        exc = type("ConnectionError", (Exception,), {"__module__": "redis.exceptions"})
        raise exc("Error 111 connecting to redis.staging:6379. Connection refused.")

def test_checkout():
    if os.environ.get("CHECKOUT_BROKEN"):
        assert 1 + 1 == 3, "checkout total is wrong"
"""
CHECKOUT = "test_shop.py::test_checkout"
runner = CliRunner()


def run_suite(work: Path, name: str, **switches: str) -> bytes:
    """Really run the suite with pytest-json-report; return the report's bytes."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "test_shop.py").write_text(SUITE)
    env = {"PATH": "/usr/bin:/bin", **switches}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:triage",
         "--json-report", f"--json-report-file={work / name}", "test_shop.py"],
        cwd=work, env=env, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    return (work / name).read_bytes()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    work = tmp_path_factory.mktemp("verdict")
    return {
        "green": run_suite(work, "green.json"),
        "known": run_suite(work, "known.json", REDIS_DOWN="1"),
        "news": run_suite(work, "news.json", REDIS_DOWN="1", CHECKOUT_BROKEN="1"),
        "green2": run_suite(work, "green2.json"),
        "news2": run_suite(work, "news2.json", CHECKOUT_BROKEN="1"),
    }


@pytest.fixture
def http(database_url: str) -> Iterator[httpx.Client]:
    settings = make_settings(database_url, github_repository="acme/shop")
    with serving(create_app(settings)) as client:
        yield client


def upload(http: httpx.Client, body: bytes, *, day: int, commit: str) -> dict[str, object]:
    params = {"suite": "e2e", "commit": commit, "started_at": f"2026-11-{day:02d}T06:00:00Z"}
    answer = http.post("/api/v1/runs", params=params, content=body, headers=auth())
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_verdicts_and_suspect_ranges_follow_the_runs_own_times(
    http: httpx.Client, reports: dict[str, bytes]
) -> None:
    green = upload(http, reports["green"], day=2, commit="aaa111")
    assert green["verdict"]["status"] == "pass"  # type: ignore[index]
    known = upload(http, reports["known"], day=3, commit="bbb222")
    verdict = known["verdict"]
    assert verdict["status"] == "known"  # type: ignore[index]
    assert verdict["title"] == "1 failure: 1 known (#1029 \u00d71)"  # type: ignore[index]

    news = upload(http, reports["news"], day=6, commit="ccc333")
    assert news["verdict"]["status"] == "blocked"  # type: ignore[index]
    run_id = news["run_id"]
    got = http.get(f"/api/v1/runs/{run_id}/verdict").json()
    assert got["title"] == "2 failures: 1 known (#1029 \u00d71), 1 new product failure"
    assert [d["nodeid"] for d in got["deciding"]] == [CHECKOUT]
    assert got["suspects"] == [
        {
            "nodeid": CHECKOUT,
            "first_failed_run": run_id,
            "first_failed_commit": "ccc333",
            "last_passed_run": known["run_id"],
            "last_passed_commit": "bbb222",
            "compare_url": "https://github.com/acme/shop/compare/bbb222...ccc333",
        }
    ]

    # Uploaded late: a passing run on day 4 and a failing one on day 5 narrow the range.
    passed = upload(http, reports["green2"], day=4, commit="ddd444")
    failed = upload(http, reports["news2"], day=5, commit="eee555")
    suspect = http.get(f"/api/v1/runs/{run_id}/verdict").json()["suspects"][0]
    assert (suspect["last_passed_run"], suspect["first_failed_run"]) == (
        passed["run_id"],
        failed["run_id"],
    )
    assert suspect["compare_url"] == "https://github.com/acme/shop/compare/ddd444...eee555"

    page = http.get(f"/runs/{run_id}").text  # the run page shows the same verdict
    assert 'class="verdict-blocked"' in page
    assert 'href="https://github.com/acme/shop/compare/ddd444...eee555"' in page

    verdicts = {
        s.labels["status"]: s.value
        for f in text_string_to_metric_families(http.get("/metrics").text)
        for s in f.samples
        if s.name == "triage_suite_verdict" and s.labels["suite"] == "e2e"
        and s.labels["environment"] == "staging"
    }  # fmt: skip
    assert verdicts["blocked"] == 1
    assert verdicts["known"] == 0

    status = http.get("/api/v1/suites/e2e/status").json()
    assert status["latest_run"]["run_id"] == run_id  # the newest by its own time, not upload
    assert status["latest_run"]["status"] == "blocked"
    assert set(status["objective"]) == {"streak_days", "met", "coverage", "progress"}


def test_unknown_run_and_suite_are_404(http: httpx.Client) -> None:
    assert http.get("/api/v1/runs/999/verdict").status_code == 404
    assert http.get("/api/v1/suites/nope/status").status_code == 404


def test_gate_command_exits_by_the_verdict(
    http: httpx.Client, reports: dict[str, bytes], tmp_path: Path
) -> None:
    url = str(http.base_url)
    known = upload(http, reports["known"], day=3, commit="bbb222")
    news = upload(http, reports["news"], day=4, commit="ccc333")
    env = {"TRIAGE_URL": url, "TRIAGE_TOKEN": API_TOKEN}
    ok = runner.invoke(cli, ["gate", str(known["run_id"])], env=env)
    assert ok.exit_code == 0, ok.output
    assert f"run {known['run_id']}: known" in ok.output
    blocked = runner.invoke(cli, ["gate", str(news["run_id"])], env=env)
    assert blocked.exit_code == 1, blocked.output
    report = tmp_path / "report.json"
    report.write_bytes(reports["news2"])
    uploaded = runner.invoke(cli, ["gate", "--report", str(report), "--suite", "e2e"], env=env)
    assert uploaded.exit_code == 1, uploaded.output
    assert ": blocked: " in uploaded.output


def test_gate_command_cannot_judge_an_unreachable_service() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(cli, ["gate", "7", "--url", closed])
    assert result.exit_code == 2
    assert "not judged" in result.output


GATED = """
import os

def test_cache():
    if os.environ.get("GATE_NEWS"):
        assert 1 + 1 == 3, "checkout total is wrong"
    exc = type("ConnectionError", (Exception,), {"__module__": "redis.exceptions"})
    raise exc("Error 111 connecting to redis.staging:6379. Connection refused.")
"""


def run_gated(pytester: pytest.Pytester, url: str, *extra: str) -> pytest.RunResult:
    pytester.makepyfile(test_gated=GATED)
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--triage-url={url}", f"--triage-token={API_TOKEN}",
        "--triage-suite=gated", "--triage-gate", "--triage-retry-for=0", *extra,
    )  # fmt: skip


def test_pytest_gate_passes_known_failures_and_blocks_news(
    http: httpx.Client, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(http.base_url)
    known = run_gated(pytester, url)
    assert known.ret == 0, known.stdout.str()
    known.stdout.fnmatch_lines(["*gate: every failure is known or flaky (exit 0)*"])
    monkeypatch.setenv("GATE_NEWS", "1")
    news = run_gated(pytester, url)
    assert news.ret == 1
    news.stdout.fnmatch_lines(["*gate: blocked by a new failure (exit 1)*"])


class _Slow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(5)
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_pytest_gate_keeps_pytest_status_when_the_service_is_away_or_late(
    pytester: pytest.Pytester,
) -> None:
    away = run_gated(pytester, f"http://127.0.0.1:{free_port()}")
    assert away.ret == 1  # a failure the gate could not judge is never hidden
    away.stdout.fnmatch_lines(["*gate: no verdict, pytest's exit status stands*"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        late = run_gated(
            pytester, f"http://127.0.0.1:{server.server_address[1]}", "--triage-timeout=1"
        )
    finally:
        server.shutdown()
        server.server_close()  # joins the handler threads and closes the listening socket
    assert late.ret == 1
    late.stdout.fnmatch_lines(["*no answer within 1 s*gate: no verdict*"])
