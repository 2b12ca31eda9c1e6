"""Hardening fixtures: the real `triage-bot serve` process on a fresh database, always killed."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import cache

import pytest
from sqlalchemy import create_engine, text

from bench.http import SECRET, TOKEN, running_service
from bench.ingest import make_report

Service = tuple[str, subprocess.Popen[bytes]]
StartService = Callable[..., Service]


@pytest.fixture
def start_service() -> Iterator[StartService]:
    """Start `triage-bot serve` on a database URL; every process is killed at teardown."""
    with ExitStack() as stack:

        def start(database_url: str, **extra_env: str) -> Service:
            return stack.enter_context(running_service(database_url, extra_env=extra_env))

        yield start


@cache
def report(tests: int, failures: int, seed: int) -> bytes:
    """A pytest-json-report body with realistic failures (setup errors, asserts, timeouts)."""
    return make_report(tests, failures, seed)


def auth() -> dict[str, str]:
    """The bearer header the service under test accepts."""
    return {"Authorization": f"Bearer {TOKEN}"}


def gz_headers() -> dict[str, str]:
    """Headers of a gzip-encoded, authenticated upload."""
    return auth() | {"Content-Encoding": "gzip", "Content-Type": "application/json"}


def gz(body: bytes) -> bytes:
    """Gzip a body quickly."""
    return gzip.compress(body, compresslevel=1, mtime=0)  # same bytes on every xdist worker


def signature(body: bytes, secret: str = SECRET) -> str:
    """The X-Hub-Signature-256 GitHub would send for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def run_rows(database_url: str) -> list[tuple[int, int, int]]:
    """Return (run id, failure_count, failures stored) per run, straight from the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT r.id, r.failure_count, "
                    "(SELECT count(*) FROM failures f WHERE f.run_id = r.id) "
                    "FROM runs r ORDER BY r.id"
                )
            ).all()
    finally:
        engine.dispose()
    return [(int(a), int(b), int(c)) for a, b, c in rows]
