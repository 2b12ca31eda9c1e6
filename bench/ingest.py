"""Benchmark: ingest a 10,000-test, 2,000-failure report (~24 MB JSON) on SQLite and PostgreSQL.

Run as `python -m bench.ingest [--tests N] [--failures N] [--no-postgres] [--repeat N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bot.core.digest import report_digest
from bot.core.knowledge import load_knowledge
from bot.core.reports import read_report_bytes
from bot.services.ingest import ingest_report
from bot.services.run_meta import RunMeta
from bot.shipped import DEFAULT_KNOWLEDGE_DIR
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.uow import SqlUnitOfWork

PG_ADMIN = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MAX_BYTES = 200 * 1024 * 1024
FRAMES = 60  # traceback depth of a failure, which is what makes real reports big

KINDS = [
    # (share of failures, phase, exception, message)
    (
        0.25,
        "setup",
        "redis.exceptions.ConnectionError",
        "Error 111 connecting to redis-{n}.staging:6379. Connection refused.",
    ),
    (0.10, "setup", "ConnectionRefusedError", "[Errno 111] Connection refused to 10.0.{n}.7:5432"),
    (0.10, "setup", None, "fixture 'real_services' not found"),
    (0.40, "call", "AssertionError", "expected status 200, got {n} for order {n}"),
    (0.15, "call", "TimeoutError", "request to /api/v1/items/{n} timed out after {n}s"),
]


def _keywords(i: int) -> list[str]:
    return [f"test_case_{i}", f"test_module_{i // 50}.py", "e2e", "staging", "", f"group{i % 7}"]


def _longrepr(i: int, exception: str | None, message: str) -> str:
    frames = []
    for depth in range(FRAMES):
        frames.append(
            f"src/app/layer_{depth}.py:{100 + depth}: in handler_{depth}\n"
            f"    return handler_{depth + 1}(request, session=session, retries={depth})"
        )
    tail = f"E       {exception}: {message}" if exception else f"E       {message}"
    return "\n".join(frames) + f"\n{tail}\n\ntests/test_module_{i // 50}.py:{i % 400}: Error"


def _test(i: int, failing: dict[int, int], rng: random.Random) -> dict[str, Any]:
    nodeid = f"tests/e2e/test_module_{i // 50}.py::test_case_{i}"
    test: dict[str, Any] = {"nodeid": nodeid, "lineno": i % 400, "keywords": _keywords(i)}
    ok = {"duration": 0.001, "outcome": "passed"}
    if i not in failing:
        test.update(outcome="passed", setup=ok, call=ok, teardown=ok)
        return test
    _, phase, exception, template = KINDS[failing[i]]
    message = template.format(n=rng.randint(1, 9999))
    crash_message = f"{exception}: {message}" if exception else message
    failed = {
        "duration": 0.2,
        "outcome": "failed",
        "crash": {"path": "/srv/app/x.py", "lineno": 10, "message": crash_message},
        "traceback": [
            {"path": f"src/app/layer_{d}.py", "lineno": 100 + d, "message": ""}
            for d in range(FRAMES)
        ],
        "longrepr": _longrepr(i, exception, message),
    }
    if exception is None:
        failed.pop("crash")
    if phase == "setup":
        test.update(outcome="error", setup=failed, teardown=ok)
    else:
        test.update(outcome="failed", setup=ok, call=failed, teardown=ok)
    return test


def make_report(tests: int, failures: int, seed: int) -> bytes:
    """Build a pytest-json-report document with `failures` failing tests out of `tests`."""
    rng = random.Random(seed)
    picked = rng.sample(range(tests), failures)
    failing: dict[int, int] = {}
    start = 0
    for kind, (share, *_rest) in enumerate(KINDS):
        count = round(share * failures) if kind < len(KINDS) - 1 else failures - start
        for i in picked[start : start + count]:
            failing[i] = kind
        start += count
    items = [_test(i, failing, rng) for i in range(tests)]
    summary = {"passed": tests - failures, "total": tests, "collected": tests}
    doc = {
        "created": 1795000000.0 + seed,
        "duration": 600.0,
        "exitcode": 1,
        "root": "/srv",
        "environment": {},
        "summary": summary,
        "tests": items,
    }
    return json.dumps(doc).encode()


class Timed:
    """Wrap a repository so each method's time adds up under "db: <repository>"."""

    def __init__(self, inner: Any, label: str, times: dict[str, float]) -> None:
        self._inner, self._label, self._times = inner, label, times

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self._times[f"db {self._label}"] += time.perf_counter() - start

        return timed


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    plain = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _timed(times: dict[str, float], label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    times[label] += time.perf_counter() - start
    return result


def ingest_once(url: str, data: bytes, at: datetime) -> dict[str, float]:
    """Ingest one report in one unit of work; return seconds per phase."""
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    engine = make_engine(url)
    times: dict[str, float] = defaultdict(float)
    try:
        # Parse and digest alone, for the breakdown (ingest_report does both again below).
        _timed(times, "(digest alone)", lambda: report_digest(data, max_bytes=MAX_BYTES))
        run = _timed(times, "(parse alone)", lambda: read_report_bytes(data, max_bytes=MAX_BYTES))
        _timed(times, "(match alone)", lambda: kb.match_many(list(run.failures)))
        start = time.perf_counter()
        with SqlUnitOfWork(engine) as uow:
            for name in ("runs", "failures", "tests", "clusters", "issues", "links"):
                setattr(uow, name, Timed(getattr(uow, name), name, times))
            meta = RunMeta(suite="e2e", environment="staging", started_at=at, source="bench")
            result = ingest_report(uow, kb, data, meta, now=at)
            _timed(times, "db commit", uow.commit)
        times["TOTAL ingest_report + commit"] = time.perf_counter() - start
        assert result.created
    finally:
        engine.dispose()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--failures", type=int, default=2_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="report the best of N rounds")
    args = parser.parse_args(argv)
    reports = [make_report(args.tests, args.failures, seed) for seed in (1, 2)]
    print(
        f"report: {args.tests} tests, {args.failures} failures, "
        f"{len(reports[0]) / 1e6:.1f} MB pytest-json-report JSON; {os.cpu_count()} CPUs"
    )
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    labels = ("first run, empty history", "second run, 10k test states")
    for kind in kinds:
        best: list[dict[str, float]] = [{}, {}]
        for _ in range(args.repeat):
            with database(kind) as url:
                upgrade(url)
                at = datetime(2026, 11, 2, 6, tzinfo=UTC)
                for n, data in enumerate(reports):
                    times = ingest_once(url, data, at + timedelta(days=n))
                    for phase, seconds in times.items():
                        best[n][phase] = min(best[n].get(phase, seconds), seconds)
        for label, times in zip(labels, best, strict=True):
            print(f"\n{kind}: {label} (best of {args.repeat})")
            for phase, seconds in sorted(times.items(), key=lambda kv: kv[0].startswith("TOTAL")):
                print(f"  {phase:32s} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
