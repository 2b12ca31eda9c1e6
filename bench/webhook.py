"""Signed webhook deliveries per second: `issues` events to a real `triage-bot serve`.

Run `python -m bench webhook [--deliveries 400] [--clients 4] [--no-postgres]`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from bench.http import SECRET, running_service
from bench.ingest import database

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


@dataclass(frozen=True)
class WebhookFigure:
    """Deliveries per second with `clients` concurrent connections."""

    kind: str
    clients: int
    deliveries: int
    seconds: float

    @property
    def per_s(self) -> float:
        """Deliveries answered per second."""
        return self.deliveries / self.seconds


def measure(kinds: list[str], deliveries: int, clients: int) -> list[WebhookFigure]:
    """Send the deliveries sequentially, then over `clients` threads; every one must be 202."""
    figures = []
    for kind in kinds:
        with database(kind) as url, running_service(url) as (base, _proc):
            _deliver(base, 20, 0)  # warm-up: connections, caches, first-use imports
            for n in (1, clients):
                share = deliveries // n
                started = time.perf_counter()
                with ThreadPoolExecutor(n) as pool:
                    done = sum(pool.map(_deliver, [base] * n, [share] * n, range(n)))
                seconds = time.perf_counter() - started
                if done != share * n:
                    raise RuntimeError(f"{share * n - done} deliveries were not accepted")
                figures.append(WebhookFigure(kind, n, share * n, seconds))
    return figures


def main(argv: list[str]) -> None:
    """Parse the arguments, send the deliveries and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench webhook")
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    print(f"{'database':<10}{'clients':>8}{'deliveries':>12}{'seconds':>9}{'per s':>9}")
    for f in measure(kinds, args.deliveries, args.clients):
        print(f"{f.kind:<10}{f.clients:>8}{f.deliveries:>12}{f.seconds:>9.2f}{f.per_s:>9.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
