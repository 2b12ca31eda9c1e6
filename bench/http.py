"""Ingest over HTTP: 1k, 10k and 50k-test reports uploaded to a real `triage-bot serve`.

Run `python -m bench http [--sizes 1000,10000,50000] [--no-postgres]`. Each database kind gets a
fresh database and one service process on 127.0.0.1; every report is gzip-uploaded once.
"""

from __future__ import annotations

import argparse
import gzip
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.ingest import database
from bench.real_reports import make_report

TOKEN = "bench-token"
SECRET = "bench-webhook-secret"
FAILURE_SHARE = 0.2
CLI = Path(sys.executable).parent / "triage-bot"


def free_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return a service's environment: no inherited TRIAGE_*, dry-run GitHub, no jobs, no sender."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        TRIAGE_DATABASE_URL=database_url,
        TRIAGE_API_TOKEN=TOKEN,
        TRIAGE_WEBHOOK_SECRET=SECRET,
        TRIAGE_SCHEDULER_ENABLED="false",
        TRIAGE_OUTBOX_SENDER_ENABLED="false",
        TRIAGE_MAX_REPORT_BYTES=str(400 * 1024 * 1024),
    )
    env.update(extra or {})
    return env


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll /healthz until the service answers 200; fail if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"service exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"service at {base} not ready after {timeout} s")


@contextmanager
def running_service(
    database_url: str, *, extra_env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start `triage-bot serve` on a free port; yield its base URL and process; always kill it."""
    port = free_port()
    with tempfile.TemporaryDirectory() as cwd:
        # A scratch working directory, so no .env of the checkout leaks into the service.
        out = (log or Path(cwd) / "serve.log").open("wb")
        proc = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level",
             "warning"],
            cwd=cwd, env=service_env(database_url, extra_env), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc)
            yield base, proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            out.close()


@dataclass(frozen=True)
class IngestFigure:
    """One upload: sizes and the wall time of the request."""

    kind: str
    tests: int
    failures: int
    mb: float
    gzip_mb: float
    seconds: float

    @property
    def tests_per_s(self) -> float:
        """Tests ingested per second."""
        return self.tests / self.seconds


def upload(base: str, body: bytes, *, suite: str, gzipped: bool = True) -> httpx.Response:
    """POST a report to /api/v1/runs with the bench token."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return httpx.post(
        f"{base}/api/v1/runs", params={"suite": suite}, content=body, headers=headers, timeout=300
    )


def measure(kinds: list[str], sizes: list[int]) -> list[IngestFigure]:
    """Upload one report of each size to a fresh database of each kind; return the figures."""
    reports = {n: make_report(n, int(n * FAILURE_SHARE), seed=n) for n in sizes}
    packed = {n: gzip.compress(body, compresslevel=6) for n, body in reports.items()}
    figures = []
    for kind in kinds:
        with database(kind) as url, running_service(url) as (base, _proc):
            for n in sizes:
                started = time.perf_counter()
                answer = upload(base, packed[n], suite=f"bench-{n}")
                seconds = time.perf_counter() - started
                if answer.status_code != 201:
                    raise RuntimeError(f"upload of {n} tests: {answer.status_code} {answer.text}")
                mb, gz = len(reports[n]) / 1e6, len(packed[n]) / 1e6
                figures.append(IngestFigure(kind, n, int(n * FAILURE_SHARE), mb, gz, seconds))
    return figures


def main(argv: list[str]) -> None:
    """Parse the arguments, run the uploads and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench http")
    parser.add_argument("--sizes", default="1000,10000,50000", help="tests per report")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'database':<10}{'tests':>8}{'failures':>10}{'JSON MB':>9}{'gzip MB':>9}"
          f"{'seconds':>9}{'tests/s':>10}")  # fmt: skip
    for f in measure(kinds, sizes):
        print(f"{f.kind:<10}{f.tests:>8}{f.failures:>10}{f.mb:>9.1f}{f.gzip_mb:>9.2f}"
              f"{f.seconds:>9.2f}{f.tests_per_s:>10,.0f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
