"""A small staging-like suite, really run by pytest, its failures switched on by env vars.

Each distinct set of failures is run once per session; its JSON report's bytes are reused
for every run of the timeline, with the report's own start time rewritten to the run's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

CONFTEST = """
import os
import pytest

if os.environ.get("TL_FIXTURE") != "missing":
    @pytest.fixture
    def real_services():
        return {"api": "http://staging.test"}
"""

TESTS = """
import os
import redis

def _cache():
    port = int(os.environ["TL_CLOSED_PORT"])
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2)

def test_health():
    assert True

def test_cart_uses_cache():
    if os.environ.get("TL_REDIS") == "down":
        _cache().ping()

def test_session_store():
    if os.environ.get("TL_REDIS") == "down":
        _cache().set("session:42", "x")

def test_checkout(real_services):
    assert real_services

def test_login(real_services):
    assert real_services

def test_order_total():
    total = 2 + 2 if os.environ.get("TL_PRODUCT") != "bug" else 5
    assert total == 4, f"order total is {total}, expected 4"

def test_search_latency():
    if os.environ.get("TL_FLAKY") == "fail":
        raise TimeoutError("search answered after 5.0 s")
"""

# Which env var switches on which failure.
SWITCHES = {
    "redis": ("TL_REDIS", "down"),  # #1029: a real refused connection on a closed local port
    "fixture": ("TL_FIXTURE", "missing"),  # #623: fixture 'real_services' not found
    "product": ("TL_PRODUCT", "bug"),  # an assertion of the product: unknown
    "flaky": ("TL_FLAKY", "fail"),  # a timeout that comes and goes
}


def closed_port() -> int:
    """A local port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class SuiteReports:
    """Run the suite once per distinct set of failures; hand out reports dated as asked."""

    def __init__(self, work: Path) -> None:
        self.work = work
        (work / "conftest.py").write_text(CONFTEST)
        (work / "test_staging.py").write_text(TESTS)
        self.port = closed_port()
        self._cache: dict[frozenset[str], dict[str, object]] = {}
        self.pytest_runs = 0

    def report(self, failures: frozenset[str]) -> dict[str, object]:
        """Return the parsed JSON report of a real run with these failures switched on."""
        if failures not in self._cache:
            self._cache[failures] = self._run(failures)
        return self._cache[failures]

    def _run(self, failures: frozenset[str]) -> dict[str, object]:
        unknown = failures - set(SWITCHES)
        assert not unknown, unknown
        env = {k: v for k, v in os.environ.items() if not k.startswith("TL_")}
        env["TL_CLOSED_PORT"] = str(self.port)
        env.update(dict(SWITCHES[name] for name in failures))
        out = self.work / f"report-{'-'.join(sorted(failures)) or 'green'}.json"
        subprocess.run(
            [
                sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                "-p", "no:randomly", "--json-report", f"--json-report-file={out}",
                "test_staging.py",
            ],
            cwd=self.work, env=env, capture_output=True, check=False, timeout=120,
        )  # fmt: skip
        self.pytest_runs += 1
        data: dict[str, object] = json.loads(out.read_bytes())
        return data

    def dated(self, failures: frozenset[str], at: datetime) -> bytes:
        """The report's bytes with its own start time set to `at` (a distinct run per time)."""
        data = dict(self.report(failures))
        data["created"] = at.timestamp()
        return json.dumps(data).encode()
