"""Signed webhook deliveries: `issues` events to a real `triage-bot serve`, and the floor.

Run `python -m bench webhook [--deliveries 400] [--clients 4] [--repeat 3] [--no-postgres]`.
The floor is a bare FastAPI endpoint that only checks the HMAC (bench/bare_hmac.py), measured
in the same run, and the CPU of the delivery's database writes and commit alone
(bench/webhook_floor.py). Figures: the server process's CPU time per delivery (from /proc,
user + system) and wall time per delivery, min/median over the rounds, deliveries per second,
with the machine's load.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bench.http import SECRET, free_port, running_service, wait_ready
from bench.ingest import database
from bench.measure import load
from bench.webhook_floor import Floor, commit_floors

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
    """Rounds of deliveries with `clients` concurrent connections: server CPU and wall time."""

    kind: str
    clients: int
    deliveries: int  # per round
    cpu: tuple[float, ...]  # server CPU seconds of each round
    wall: tuple[float, ...]  # wall seconds of each round

    def cpu_ms(self, pick: Callable[[Sequence[float]], float] = statistics.median) -> float:
        """Server CPU milliseconds per delivery (median round by default, or `min`)."""
        return pick(self.cpu) * 1000 / self.deliveries

    def wall_ms(self, pick: Callable[[Sequence[float]], float] = statistics.median) -> float:
        """Wall milliseconds per delivery (median round by default, or `min`)."""
        return pick(self.wall) * 1000 / self.deliveries

    @property
    def per_s(self) -> float:
        """Deliveries answered per second, in the median round."""
        return self.deliveries / statistics.median(self.wall)

    def describe(self) -> str:
        """'CPU x/y ms, wall x/y ms each (min/median)'."""
        return (f"CPU {self.cpu_ms(min):.2f}/{self.cpu_ms():.2f} ms, wall {self.wall_ms(min):.2f}/"
                f"{self.wall_ms():.2f} ms each (min/median)")  # fmt: skip


def _rounds(
    kind: str, base: str, pid: int, *, deliveries: int, clients: int, repeat: int
) -> list[WebhookFigure]:
    _deliver(base, 20, 0)  # warm-up: connections, caches, first-use imports
    figures = []
    for n in (1, clients):
        share = deliveries // n
        cpu, wall = [], []
        for _ in range(repeat):
            before, started = process_cpu(pid), time.perf_counter()
            with ThreadPoolExecutor(n) as pool:
                done = sum(pool.map(_deliver, [base] * n, [share] * n, range(n)))
            wall.append(time.perf_counter() - started)
            cpu.append(process_cpu(pid) - before)
            if done != share * n:
                raise RuntimeError(f"{kind}: {share * n - done} deliveries were not accepted")
        figures.append(WebhookFigure(kind, n, share * n, tuple(cpu), tuple(wall)))
    return figures


def measure(
    kinds: list[str], deliveries: int, clients: int, repeat: int = 3
) -> tuple[list[WebhookFigure], list[Floor]]:
    """The bare endpoint first, then the service per database; every delivery must be 202.

    After each service, the same database gets the floor of its writes (bench.webhook_floor).
    """
    with bare_service() as (base, proc):
        figures = _rounds(
            "bare HMAC endpoint",
            base,
            proc.pid,
            deliveries=deliveries,
            clients=clients,
            repeat=repeat,
        )
    floors: list[Floor] = []
    for kind in kinds:
        with database(kind) as url:
            with running_service(url) as (base, proc):
                figures += _rounds(
                    kind, base, proc.pid, deliveries=deliveries, clients=clients, repeat=repeat
                )
            floors += commit_floors(kind, url, count=max(deliveries, 100), repeat=repeat)
    return figures, floors


def main(argv: list[str]) -> None:
    """Parse the arguments, send the deliveries and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench webhook")
    parser.add_argument("--deliveries", type=int, default=400, help="per round")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each kind")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    print(f"signed webhooks ({load()})")
    print(f"{'server':<20}{'clients':>8}{'deliveries':>12}{'per s':>8}{'CPU ms min/med':>16}"
          f"{'wall ms min/med':>17}{'CPU x bare':>12}")  # fmt: skip
    figures, floors = measure(kinds, args.deliveries, args.clients, args.repeat)
    bare = {f.clients: f for f in figures if f.kind == "bare HMAC endpoint"}
    for f in figures:
        ratio = f.cpu_ms() / bare[f.clients].cpu_ms()
        print(f"{f.kind:<20}{f.clients:>8}{f.deliveries:>12}{f.per_s:>8.0f}"
              f"{f.cpu_ms(min):>8.3f}/{f.cpu_ms():<7.3f}{f.wall_ms(min):>9.3f}/{f.wall_ms():<7.3f}"
              f"{ratio:>11.1f}x")  # fmt: skip
    print("floor: the delivery's two writes and their commit alone, in this process")
    for floor in floors:
        print(f"  {floor.label:<58} {floor.describe()}")
    print(f"end ({load()})")


if __name__ == "__main__":
    main(sys.argv[1:])
