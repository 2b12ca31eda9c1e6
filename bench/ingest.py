"""Benchmark: ingest a 10,000-test, 2,000-failure report (~24 MB JSON) on SQLite and PostgreSQL.

Run as `python -m bench ingest [--sizes 1000,10000,100000] [--no-postgres] [--repeat N]`.
Reports are grown from a real pytest run's failures (bench/real_reports.py, ~7:1 under gzip);
every figure is CPU (process time) and wall, min / median, beside `json.loads` and
`orjson.loads` of the same bytes. `make_report` below is the older synthetic report, kept for
the hardening tests that build on it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy import Engine

from bench.real_reports import make_report as make_realistic
from bot.core.knowledge import load_knowledge
from bot.core.reports import read_report_bytes
from bot.services.ingest import IngestOptions, ingest_report
from bot.services.run_meta import RunMeta
from bot.shipped import DEFAULT_KNOWLEDGE_DIR
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.uow import SqlUnitOfWork

PG_ADMIN = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MAX_BYTES = 200 * 1024 * 1024
OPTIONS = IngestOptions(max_bytes=MAX_BYTES)
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


def _cpu(fn: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """CPU and wall seconds of `repeat` calls."""
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return cpu, wall


def _line(label: str, samples: tuple[list[float], list[float]], floor: float) -> str:
    cpu, wall = samples
    med = statistics.median
    return (
        f"  {label:34s} CPU {min(cpu):6.3f} / {med(cpu):6.3f} s   "
        f"wall {min(wall):6.3f} / {med(wall):6.3f} s   {med(cpu) / floor:5.1f}x json.loads"
    )


def ingest_once(engine: Engine, kb: Any, data: bytes, at: datetime) -> None:
    """Ingest one report in one unit of work and commit, as the service does."""
    with SqlUnitOfWork(engine) as uow:
        meta = RunMeta(suite="e2e", environment="staging", started_at=at, source="bench")
        result = ingest_report(uow, kb, data, meta, now=at, options=OPTIONS)
        uow.commit()
    assert result.created


def parse_peak(data: bytes) -> int:
    """Peak bytes allocated while parsing (tracemalloc), beyond the report's own bytes."""
    tracemalloc.start()
    try:
        read_report_bytes(data, max_bytes=MAX_BYTES)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_size(tests: int, failures: int, kinds: list[str], repeat: int) -> None:
    """Print parse and ingest figures for one report size against json.loads and orjson."""
    reports = [make_realistic(tests, failures, seed) for seed in range(1, 2 * repeat + 2)]
    data = reports[0]
    ratio = len(data) / len(gzip.compress(data, 6))
    print(f"\n{tests:,} tests, {failures:,} failures: {len(data) / 1e6:.1f} MB JSON "
          f"(gzip {ratio:.1f}:1); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    loads = _cpu(lambda: json.loads(data), repeat)
    floor = statistics.median(loads[0])
    print(_line("json.loads", loads, floor))
    print(_line("orjson.loads", _cpu(lambda: orjson.loads(data), repeat), floor))
    print(_line("read_report_bytes (parse alone)", _cpu(
        lambda: read_report_bytes(data, max_bytes=MAX_BYTES), repeat), floor))  # fmt: skip
    peak = parse_peak(data)
    print(f"  parse peak memory (tracemalloc)    {peak / 1e6:.1f} MB = "
          f"{peak / len(data):.2f}x the report")  # fmt: skip
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    for kind in kinds:
        print(_line(f"ingest + commit, {kind}", _ingest_rounds(kind, kb, reports, repeat), floor))


def _ingest_rounds(
    kind: str, kb: Any, reports: list[bytes], repeat: int
) -> tuple[list[float], list[float]]:
    """Ingest `repeat` reports after a first one (so the suite's tests are known)."""
    with database(kind) as url:
        upgrade(url)
        engine = make_engine(url)
        at = datetime(2026, 11, 2, 6, tzinfo=UTC)
        try:
            ingest_once(engine, kb, reports[-1], at)
            pending = iter(enumerate(reports[1:-1], start=1))

            def one() -> None:
                day, data = next(pending)
                ingest_once(engine, kb, data, at + timedelta(days=day))

            return _cpu(one, repeat)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000", help="tests per report, comma-separated")
    parser.add_argument("--failure-share", type=float, default=0.2)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; min / median of {args.repeat} rounds; "
          "realistic reports grown from a real pytest run's failures")  # fmt: skip
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    for tests in (int(n) for n in args.sizes.split(",")):
        bench_size(tests, round(tests * args.failure_share), kinds, args.repeat)


if __name__ == "__main__":
    main()
