"""Signed webhook deliveries: `issues` events to a real `triage-bot serve`, and the floor.

Run `python -m bench webhook [--deliveries 400] [--clients 4] [--no-postgres]`. The floor is a
bare FastAPI endpoint that only checks the HMAC (bench/bare_hmac.py), measured in the same run.
Figures: deliveries per wall second, and the server process's CPU time per delivery (from
/proc, user + system), with the machine's load.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bench.http import SECRET, free_port, running_service, wait_ready
from bench.ingest import database
from bench.measure import load

ISSUES = (1029, 1086)


def signed_issue_event(
    number: int, action: str, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    """Return the body and headers of an `issues` delivery shaped like GitHub's, HMAC-signed."""
    state = "closed" if action == "closed" else "open"
    payload = {
        "action": action,
        "issue": {
            "number": number, "title": f"Known issue {number}", "state": state,
            "state_reason": "completed" if state == "closed" else None,
            "updated_at": "2026-11-20T10:00:00Z", "html_url": f"https://example.invalid/{number}",
            "user": {"login": "maintainer", "type": "User"}, "labels": [], "body": "",
        },
        "repository": {"full_name": "acme/widgets", "private": True},
        "sender": {"login": "maintainer", "type": "User"},
    }  # fmt: skip
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/bench",
    }
    return body, headers


def _deliver(base: str, count: int, offset: int) -> int:
    """Send `count` deliveries over one connection; return how many got 202."""
    accepted = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for i in range(count):
            action = ("edited", "closed", "reopened")[(i + offset) % 3]
            body, headers = signed_issue_event(ISSUES[i % len(ISSUES)], action)
            answer = client.post("/api/v1/github/webhook", content=body, headers=headers)
            accepted += answer.status_code == 202
    return accepted


def process_cpu(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()  # noqa: SIM115, PTH123
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def bare_service() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the bare HMAC-only endpoint on a free port; always kill it."""
    port = free_port()
    env = os.environ | {"BENCH_WEBHOOK_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_hmac:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


@dataclass(frozen=True)
class WebhookFigure:
    """Deliveries per second with `clients` concurrent connections, and server CPU."""

    kind: str
    clients: int
    deliveries: int
    seconds: float
    cpu: float = 0.0

    @property
    def per_s(self) -> float:
        """Deliveries answered per second."""
        return self.deliveries / self.seconds

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per delivery."""
        return self.cpu * 1000 / self.deliveries


def _rounds(kind: str, base: str, pid: int, deliveries: int, clients: int) -> list[WebhookFigure]:
    _deliver(base, 20, 0)  # warm-up: connections, caches, first-use imports
    figures = []
    for n in (1, clients):
        share = deliveries // n
        cpu, started = process_cpu(pid), time.perf_counter()
        with ThreadPoolExecutor(n) as pool:
            done = sum(pool.map(_deliver, [base] * n, [share] * n, range(n)))
        seconds = time.perf_counter() - started
        if done != share * n:
            raise RuntimeError(f"{kind}: {share * n - done} deliveries were not accepted")
        figures.append(WebhookFigure(kind, n, share * n, seconds, process_cpu(pid) - cpu))
    return figures


def measure(kinds: list[str], deliveries: int, clients: int) -> list[WebhookFigure]:
    """The bare endpoint first, then the service per database; every delivery must be 202."""
    with bare_service() as (base, proc):
        figures = _rounds("bare HMAC endpoint", base, proc.pid, deliveries, clients)
    for kind in kinds:
        with database(kind) as url, running_service(url) as (base, proc):
            figures += _rounds(kind, base, proc.pid, deliveries, clients)
    return figures


def main(argv: list[str]) -> None:
    """Parse the arguments, send the deliveries and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench webhook")
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    print(f"signed webhooks ({load()})")
    print(f"{'server':<20}{'clients':>8}{'deliveries':>12}{'seconds':>9}{'per s':>9}"
          f"{'CPU ms each':>13}")  # fmt: skip
    for f in measure(kinds, args.deliveries, args.clients):
        print(f"{f.kind:<20}{f.clients:>8}{f.deliveries:>12}{f.seconds:>9.2f}{f.per_s:>9.0f}"
              f"{f.cpu_ms:>13.2f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
