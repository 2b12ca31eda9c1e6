"""SIGKILL of the service in the middle of an ingest, then a restart on the same database."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time

import httpx
import psycopg
import pytest

from tests.hardening.conftest import StartService, gz, gz_headers, report, run_rows

TESTS, FAILURES = 30_000, 6_000


def _sqlite_writing(url: str) -> bool:
    """Tell whether some connection holds the database's write lock (a write transaction)."""
    probe = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def _postgres_writing(url: str) -> bool:
    """Tell whether a transaction of the service has written rows (it holds a transaction id)."""
    admin, _, name = url.replace("postgresql+psycopg://", "postgresql://").rpartition("/")
    with psycopg.connect(f"{admin}/{name}", autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return bool(found and found[0])


def _kill_while_writing(url: str, pid: int, upload: threading.Thread) -> None:
    writing = _sqlite_writing if url.startswith("sqlite") else _postgres_writing
    deadline = time.monotonic() + 120
    while not writing(url):
        assert upload.is_alive(), "the upload finished before any write was seen"
        assert time.monotonic() < deadline, "no write transaction seen"
        time.sleep(0.005)
    time.sleep(0.2)  # well inside the writes of thousands of failures
    os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_no_partial_run(
    start_service: StartService, database_url: str
) -> None:
    body = gz(report(TESTS, FAILURES, 4242))
    base, proc = start_service(database_url)
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(
                httpx.post(f"{base}/api/v1/runs", params={"suite": "crash"}, content=body,
                           headers=gz_headers(), timeout=120)
            )  # fmt: skip
        except httpx.TransportError as exc:
            outcome.append(exc)

    upload = threading.Thread(target=send)
    upload.start()
    _kill_while_writing(database_url, proc.pid, upload)
    upload.join(60)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert isinstance(outcome[0], httpx.TransportError), outcome
    # The run's transaction never committed: no run, no failures, no half of either.
    assert run_rows(database_url) == []

    base, _ = start_service(database_url)
    again = httpx.post(f"{base}/api/v1/runs", params={"suite": "crash"}, content=body,
                       headers=gz_headers(), timeout=120)  # fmt: skip
    assert again.status_code == 201, again.text
    twice = httpx.post(f"{base}/api/v1/runs", params={"suite": "crash"}, content=body,
                       headers=gz_headers(), timeout=120)  # fmt: skip
    assert twice.status_code == 200
    assert run_rows(database_url) == [(again.json()["run_id"], FAILURES, FAILURES)]
