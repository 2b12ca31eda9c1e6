"""Benchmark: does a small upload, the known-issues list, the objective or the dashboard cost
more with a year of noisy history stored than on an empty database?

Run `python -m bench history [--rows 1000000] [--repeat 5] [--skip-postgres]`. For each
database, the schema is built by the migrations and one engine is made, as the service makes
it: its pooled connections live through the whole run, as the service's live while history
grows. The operations are timed on the empty database, then with the last 30 days of a noisy
suite loaded, then with the whole year (~1M failure rows, three runs a day, most matched to the
shipped known issues; bulk-loaded with COPY on PostgreSQL, one transaction a run; one
executemany on SQLite; the triggers keep the summaries of migration 0010 as they do for an
upload). The loads gather no planner statistics: after each, the upkeep the service relies on
runs, timed: on SQLite the service's hourly job (`refresh_statistics`, through the same engine),
on PostgreSQL an ANALYZE standing for autovacuum's autoanalyze (off on the test server). The
year is timed before that upkeep too (the statistics of the month: what an hour without the job
looks like, and what the service had before it existed) and, after it, through a new engine.
Figures are CPU (process time) and wall, min and median of --repeat rounds, with the machine's
load average; on SQLite also the work in virtual machine instructions (median of 3 more calls),
which the load of a shared machine does not change. year/empty is the issue's figure.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Engine, event

from bench.ingest import database
from bench.real_reports import make_report
from bot.config import DEFAULT_KNOWLEDGE_DIR, Settings
from bot.configs import policy_config, report_config
from bot.core.knowledge import load_knowledge
from bot.services.ingest import IngestOptions
from bot.services.objective import dashboard, objective, objective_of
from bot.services.queries import known_issues
from bot.services.run_meta import RunMeta
from bot.services.writeback import ingest_and_plan
from bot.store.engine import make_engine, refresh_statistics
from bot.store.migrate import upgrade
from bot.store.reports import uow_factory
from bot.store.uow import SqlUnitOfWork
from bot.web.objective import DEFAULT_RESETS

SUITE, ENV = "e2e", "staging"
START = datetime(2025, 11, 24, 6, 0, tzinfo=UTC)
RUNS_A_DAY = 3
TESTS = 10_000
COLUMNS = (
    "run_id", "suite", "environment", "started_at", "nodeid", "phase", "outcome", "exception",
    "chain", "message", "text", "keywords", "fingerprint", "signature_version", "known_issue",
    "rule", "classification", "category",
)  # fmt: skip
Op = Callable[[], object]
_SEEDS = itertools.count(1)
Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _rules() -> list[tuple[int, str]]:
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    return [(n, issue.rules[0].id) for n, issue in sorted(kb.issues.items())]


def history(rows: int, seed: int = 623) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Build run rows and ~`rows` failure rows: a year of RUNS_A_DAY noisy runs a day."""
    rng = random.Random(seed)
    rules = _rules()
    runs_total = 365 * RUNS_A_DAY
    per_run = max(1, rows // runs_total)
    runs, failures = [], []
    nodeids = [f"tests/e2e/test_module_{i // 40}.py::test_case_{i}" for i in range(TESTS)]
    for run in range(runs_total):
        run_id = 100_000 + run  # above the ids the empty-database uploads took
        at = START + timedelta(hours=8 * run)
        counts = '{"passed": 9000, "failed": 1000}'
        runs.append((run_id, SUITE, ENV, at, "pytest-json-report", "api", at, counts, TESTS,
                     per_run, f"d{run_id}", ""))  # fmt: skip
        for nodeid in rng.sample(nodeids, per_run):
            roll = rng.random()
            issue, rule = rng.choice(rules) if roll < 0.7 else (None, None)
            kind = "known" if issue else ("persistent" if roll < 0.9 else "new")
            category = "infrastructure" if issue or roll > 0.995 else "product"
            outcome = "flaky" if roll > 0.98 else "failed"
            failures.append((
                run_id, SUITE, ENV, at, nodeid, "call", outcome, "AssertionError", "",
                f"assert {run} == 0", "", "", f"{hash(nodeid) % 400:016x}", 1, issue, rule, kind,
                category,
            ))  # fmt: skip
    return runs, failures


RUN_COLUMNS = (
    "id, suite, environment, started_at, format, source, ingested_at, counts, tests, "
    "failure_count, report_digest, knowledge_digest"
)


def split(rows: int) -> tuple[Rows, Rows]:
    """The last 30 days of the history, and the eleven months before them."""
    runs, failures = history(rows)
    cut = START + timedelta(days=335)
    return (
        ([r for r in runs if r[3] >= cut], [f for f in failures if f[3] >= cut]),
        ([r for r in runs if r[3] < cut], [f for f in failures if f[3] < cut]),
    )


def load(url: str, part: Rows, *, analyse: bool = True) -> float:
    """Bulk-load runs and failures (then ANALYZE, unless told not to); return the seconds."""
    runs, failures = part
    began = time.perf_counter()
    columns = ", ".join(COLUMNS)
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                             [(*r[:3], r[3].isoformat(" "), *r[4:6], r[6].isoformat(" "), *r[7:])
                              for r in runs])  # fmt: skip
            conn.executemany(
                f"INSERT INTO failures ({columns}) VALUES ({', '.join('?' * len(COLUMNS))})",
                ((*f[:3], f[3].isoformat(" "), *f[4:]) for f in failures),
            )
            if analyse:
                conn.execute("ANALYZE")
    else:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY runs ({RUN_COLUMNS}) FROM STDIN") as copy:
                for r in runs:
                    copy.write_row(r)
            cur.execute("SELECT setval('runs_id_seq', (SELECT max(id) FROM runs))")
            conn.commit()
            # One transaction a run, as ingest commits: the triggers update the few per-issue
            # totals once per row, and in one huge transaction each update would walk the
            # row's ever longer chain of versions.
            for _, rows in itertools.groupby(failures, key=lambda f: f[0]):
                with cur.copy(f"COPY failures ({columns}) FROM STDIN") as copy:
                    for f in rows:
                        copy.write_row(f)
                conn.commit()
            conn.autocommit = True
            if analyse:
                conn.execute("ANALYZE")
    return time.perf_counter() - began


def operations(engine: Engine, at: datetime) -> dict[str, Op]:
    """The operations, each a fresh unit of work (every upload is a new report).

    "objective" is the API's default answer (the newest 100 streak resets, and one more to tell
    whether older ones exist); "objective, 10 resets" is the dashboard's and the suite status's:
    the same figures, the newest resets.
    """
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    settings = Settings(_env_file=None)
    config = report_config(settings)
    reports = uow_factory(engine)
    kinds = ("redis", "real_services", "status_code")

    def upload() -> object:
        seed = next(_SEEDS)
        data = make_report(23, 6, seed, kinds=kinds)
        meta = RunMeta(suite=SUITE, environment=ENV, started_at=at + timedelta(minutes=seed))
        with SqlUnitOfWork(engine) as uow:
            result = ingest_and_plan(
                uow, kb, data, meta, now=at + timedelta(minutes=seed),
                options=IngestOptions(), policy=policy_config(settings),
            )  # fmt: skip
            uow.commit()
        return result

    def latest_resets() -> object:
        # What the dashboard and the weekly report need: every figure, the newest resets.
        with reports() as tx:
            return objective_of(tx.reports, suite=SUITE, at=at, config=config, resets=10)

    def issues() -> object:
        with SqlUnitOfWork(engine, write=False) as uow:
            return known_issues(uow, kb)

    return {
        "upload of 23 tests": upload,
        "known issues": issues,
        "objective": lambda: objective(
            reports, suite=SUITE, at=at, config=config, resets=DEFAULT_RESETS + 1
        ),
        "objective, 10 resets": latest_resets,
        "dashboard": lambda: dashboard(reports, suite=None, now=at, config=config),
    }


def timed(fn: Op, repeat: int) -> tuple[list[float], list[float]]:
    """CPU and wall seconds of `repeat` calls after one warm-up."""
    fn()
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return cpu, wall


STEP = 100  # SQLite virtual machine instructions between two calls of the progress handler


def vm_steps(engine: Engine, fn: Op, calls: int = 3) -> list[int]:
    """SQLite VM instructions (to STEP) of each of `calls` calls: the work, whatever the load.

    A progress handler counts on every connection checked out meanwhile, then is removed; the
    timed calls run without it.
    """
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0  # go on

    def on_checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
        dbapi.set_progress_handler(tick, STEP)

    def on_checkin(dbapi: Any, _record: Any) -> None:
        if dbapi is not None:
            dbapi.set_progress_handler(None, 0)

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    steps = []
    try:
        for _ in range(calls):
            count[0] = 0
            fn()
            steps.append(count[0] * STEP)
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "checkin", on_checkin)
    return steps


def _ms(samples: list[float]) -> str:
    return f"{min(samples) * 1000:7.1f} {statistics.median(samples) * 1000:7.1f}"


@contextmanager
def _fresh(kind: str) -> Iterator[str]:
    with database(kind) as url:
        upgrade(url)
        yield url


STAGES = {
    "empty": "empty",
    "month": "one month",
    "stale": "year, stale",
    "year": "a year",
    "new": "year, new engine",
}


def upkeep(kind: str, url: str, engine: Engine) -> tuple[float, str]:
    """Gather statistics as the service's database does; return CPU seconds and what ran."""
    began = time.process_time()
    if kind == "sqlite":
        analysed = refresh_statistics(engine)  # the service's hourly job, on its engine
        return time.process_time() - began, f"refresh_statistics: {', '.join(analysed) or '-'}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("ANALYZE")  # what autovacuum's autoanalyze does after 10% of a table changed
    return time.process_time() - began, "ANALYZE (standing for autoanalyze)"


def run(kind: str, rows: int, repeat: int) -> None:
    at = START + timedelta(days=365, hours=2)
    recent, older = split(rows)
    stages: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    work: dict[str, dict[str, list[int]]] = {}
    upkept: list[str] = []

    def measure(stage: str, engine: Engine) -> None:
        ops = operations(engine, at)
        stages[stage] = {name: timed(op, repeat) for name, op in ops.items()}
        if kind == "sqlite":
            work[stage] = {name: vm_steps(engine, op) for name, op in ops.items()}

    def keep_up(stage: str, engine: Engine) -> None:
        cpu, what = upkeep(kind, url, engine)
        upkept.append(f"{stage}: {what}, {cpu * 1000:.0f} ms CPU")

    with _fresh(kind) as url:
        # The service's engine: made once, its connections used before and after the growth.
        engine = make_engine(url)
        keep_up("empty", engine)  # the job's run at start
        measure("empty", engine)
        took = load(url, recent, analyse=False)
        keep_up("month", engine)
        measure("month", engine)
        took += load(url, older, analyse=False)
        measure("stale", engine)  # the month's statistics, the year's rows
        keep_up("year", engine)
        keep_up("year, again", engine)  # nothing changed since: the hourly cost at rest
        measure("year", engine)
        fresh = make_engine(url)
        measure("new", fresh)
        fresh.dispose()
        engine.dispose()
    print(f"\n{kind}: loaded {len(recent[1]) + len(older[1]):,} failure rows "
          f"({len(recent[1]):,} in the last 30 days) in {took:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for line in upkept:
        print(f"  upkeep after {line}")
    print("  CPU ms min/median, then wall ms min/median; ratios of CPU medians to the empty one")
    print(f"  {'operation':20s} " + " ".join(f"{label:>17s}" for label in STAGES.values()))
    med = statistics.median
    for name, (ec, _) in stages["empty"].items():
        print(f"  {name:20s} " + " ".join(f"{_ms(stages[s][name][0]):>17s}" for s in STAGES))
        print(f"  {'  wall':20s} " + " ".join(f"{_ms(stages[s][name][1]):>17s}" for s in STAGES))
        ratios = "".join(
            f" {s}/empty {med(stages[s][name][0]) / med(ec):.2f}x" for s in STAGES if s != "empty"
        )
        print(f"  {'  ratios':20s}{ratios}")
        if work:
            steps = {s: med(work[s][name]) for s in STAGES}
            print(f"  {'  VM steps (median)':20s} " + " ".join(f"{steps[s]:>17,}" for s in STAGES))
            # Against the month, not the empty database: an empty one does almost no SQL work
            # (the CPU there is Python's), so only the growth beyond the window shows here.
            ratios = "".join(
                f" {s}/month {steps[s] / max(steps['month'], 1):.2f}x"
                for s in STAGES
                if s not in ("empty", "month")
            )
            print(f"  {'  steps ratios':20s}{ratios}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench history", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    began = datetime.now(UTC)
    print(f"{began:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version}, "
          f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())} at start")  # fmt: skip
    for kind in ["sqlite"] if args.skip_postgres else ["sqlite", "postgres"]:
        run(kind, args.rows, args.repeat)
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} at the end")  # fmt: skip


if __name__ == "__main__":
    main()
