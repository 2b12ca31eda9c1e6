"""Benchmark: objective, weekly report and dashboard over a year of daily 10,000-test runs."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert
from sqlmodel import SQLModel

from bot.config import Settings
from bot.configs import report_config
from bot.core.criteria import load_criteria
from bot.core.knowledge import load_knowledge
from bot.core.weekly import last_complete_week, render_markdown
from bot.services.objective import dashboard, objective
from bot.services.queries import known_issues
from bot.services.weekly import build_report
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.pages import pages_uow
from bot.store.reports import uow_factory
from bot.store.tables import load_all_tables
from bot.web.dashboard import render

SUITE = "staging"
START = datetime(2025, 11, 24, 6, 0, tzinfo=UTC)
ISSUES = (623, 1029, 1086, 1087, 1111, 1200, 1201, 1202, 1203, 1204)
PG_ADMIN = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _failure(
    rng: random.Random, run_id: int, at: datetime, nodeid: str, day: int
) -> dict[str, Any]:
    roll = rng.random()
    issue = rng.choice(ISSUES) if roll < 0.6 else None
    if issue:
        classification = "known"
    elif roll < 0.8:
        classification = "persistent"
    elif roll < 0.9:
        classification = "flaky"
    else:
        classification = "new"
    # An infrastructure regression about every 25 days; other new failures are product bugs.
    category = (
        "infrastructure" if issue or (classification == "new" and day % 25 == 0) else "product"
    )
    fingerprint = f"{(hash(nodeid) % 400):016x}"
    return {
        "run_id": run_id, "suite": SUITE, "environment": "", "started_at": at, "nodeid": nodeid,
        "phase": "call", "outcome": "failed", "exception": "AssertionError", "chain": "",
        "message": f"assert {day} == 0", "text": "", "keywords": "", "fingerprint": fingerprint,
        "signature_version": 1, "known_issue": issue, "rule": f"{issue}#r1" if issue else None,
        "classification": classification, "category": category,
    }  # fmt: skip


def populate(engine: Engine, *, days: int, tests: int, failures: int) -> None:
    """Insert `days` daily runs of `tests` tests with `failures` failures each, in bulk."""
    load_all_tables()
    t = SQLModel.metadata.tables
    rng = random.Random(623)
    nodeids = [f"tests/e2e/staging/test_{i % 40}.py::test_case_{i}" for i in range(tests)]
    with engine.begin() as conn:
        for day in range(days):
            at = START + timedelta(days=day)
            run_id = day + 1
            counts = {"passed": tests - failures, "failed": failures}
            conn.execute(insert(t["runs"]).values(
                id=run_id, suite=SUITE, environment="", started_at=at, format="pytest-json-report",
                source="api", ingested_at=at, counts=counts, tests=tests,
                failure_count=failures, report_digest=f"d{run_id}", knowledge_digest="",
            ))  # fmt: skip
            chosen = rng.sample(nodeids, failures)
            conn.execute(insert(t["failures"]), [_failure(rng, run_id, at, n, day) for n in chosen])
        last = START + timedelta(days=days - 1)
        conn.execute(insert(t["suite_tests"]), [
            {"suite": SUITE, "environment": "", "nodeid": n} for n in nodeids
        ])  # fmt: skip
        conn.execute(insert(t["clusters"]), [
            {"fingerprint": f"{i:016x}", "suite": SUITE,
             "first_seen": START + timedelta(days=i % days),
             "last_seen": last, "count": i, "runs": i, "exception": "AssertionError",
             "example_nodeid": nodeids[i], "example_message": "assert 1 == 0", "suggested_rule": ""}
            for i in range(400)
        ])  # fmt: skip


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the median and worst wall time in ms over `repeat` calls, after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), max(samples)


# The index asked of the store's failures table: infrastructure regressions of a suite.
REGRESSION_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_failures_regressions "
    "ON failures (suite, category, classification, started_at)"
)


def measure(
    url: str, *, days: int, tests: int, failures: int, repeat: int, index: bool
) -> dict[str, Any]:
    """Build the database at `url` and time the three computations."""
    upgrade(url)  # the service's schema, triggers of the summaries included
    engine = make_engine(url)
    if index:
        with engine.begin() as conn:
            conn.exec_driver_sql(REGRESSION_INDEX)
    began = time.perf_counter()
    populate(engine, days=days, tests=tests, failures=failures)
    with engine.begin() as conn:
        # Planner statistics, as autovacuum (PostgreSQL) or PRAGMA optimize (SQLite) keep them.
        conn.exec_driver_sql("ANALYZE")
    load_s = time.perf_counter() - began
    settings = Settings(_env_file=None)
    config = report_config(settings)
    criteria = load_criteria(settings.knowledge_dir / "criteria.toml")
    kb = load_knowledge(settings.knowledge_dir)
    uow = uow_factory(engine)
    now = START + timedelta(days=days - 1, hours=3)
    week = last_complete_week(now, UTC)

    def report() -> str:
        with uow() as tx:
            built = build_report(
                tx.reports, suite=SUITE, week=week, now=now, config=config, criteria=criteria
            )
        return render_markdown(built)

    def page() -> str:
        view = dashboard(uow, suite=None, now=now, config=config)
        with pages_uow(engine) as reads:  # the known-issue table, as the route reads it
            issues = known_issues(reads, kb)
        return render(view, issues=issues, generated="bench", days=30, min_coverage=0.9)

    results = {
        "objective": timed(lambda: objective(uow, suite=SUITE, at=now, config=config), repeat),
        "weekly report": timed(report, repeat),
        "dashboard": timed(page, repeat),
    }
    engine.dispose()
    return {"load_s": load_s, "rows": days * failures, **results}


def _pg_database() -> tuple[str, Callable[[], None]]:
    plain = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{PG_ADMIN.rpartition('/')[0]}/{name}", drop


def main(argv: list[str]) -> None:
    """Run the benchmark on SQLite and PostgreSQL and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.objective")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--failures", type=int, default=200, help="failures per run")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--regression-index", action="store_true", help="add the proposed ix_failures_regressions"
    )
    args = parser.parse_args(argv)
    sizes = {"days": args.days, "tests": args.tests, "failures": args.failures}
    print(f"{args.days} daily runs of {args.tests} tests, {args.failures} failures a run")
    with tempfile.TemporaryDirectory() as scratch:
        targets: list[tuple[str, str, Callable[[], None]]] = [
            ("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}", lambda: None)
        ]
        if not args.skip_postgres:
            url, drop = _pg_database()
            targets.append(("postgresql", url, drop))
        for name, url, cleanup in targets:
            try:
                got = measure(url, repeat=args.repeat, index=args.regression_index, **sizes)
            finally:
                cleanup()
            print(f"{name}: loaded {got['rows']} failures in {got['load_s']:.1f} s")
            for what in ("objective", "weekly report", "dashboard"):
                median, worst = got[what]
                print(f"  {what:<14} median {median:7.1f} ms   max {worst:7.1f} ms")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
