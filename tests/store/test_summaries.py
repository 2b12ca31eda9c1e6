"""The summaries the triggers keep equal a recomputation from the failures, after every change.

Runs are stored as ingest stores them, judgements move as re-judging moves them, failures and
whole runs are deleted; after each step every summary table (per-run tallies, each run's first
regression, issue and rule totals) is compared with the same figures computed from the raw
failure rows. The migration's backfill is held to the same recomputation.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.ports.store import FailureRecord, JudgementChange, NewRun
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import T0

ISSUES = [(1029, "redis"), (1029, "redis-timeout"), (700, "cart"), (88, "")]  # "" manual link
NODES = [f"tests/test_{m}.py::test_{i}" for m in "abc" for i in range(6)]
CLASSES = ["known", "new", "recurred", "persistent", "flaky"]
CATEGORIES = ["infrastructure", "product"]


def _failure(rng: random.Random, run_id: int, n: int, nodeid: str) -> FailureRecord:
    issue, rule = rng.choice(ISSUES) if rng.random() < 0.5 else (None, None)
    return FailureRecord(
        run_id=run_id,
        suite=f"suite-{n % 2}",
        environment="staging",
        started_at=T0 + timedelta(hours=8 * n),
        nodeid=nodeid,
        phase=rng.choice(["call", "setup"]),
        outcome="flaky" if rng.random() < 0.15 else "failed",
        exception=rng.choice(["ConnectionError", None]),
        chain=(),
        message=f"boom {rng.randrange(3)}",
        text="",
        keywords=(),
        fingerprint=f"{rng.randrange(5):016x}",
        signature_version=1,
        known_issue=issue,
        rule=rule if issue is not None else None,
        classification=rng.choice(CLASSES),
        category=rng.choice(CATEGORIES),
    )


def add_runs(
    engine: Engine, rng: random.Random, first: int, count: int, environment: str = "staging"
) -> None:
    """Store `count` runs as ingest does: the run, then its failures in one executemany."""
    for n in range(first, first + count):
        at = T0 + timedelta(hours=8 * n)
        with SqlUnitOfWork(engine) as uow:
            run = NewRun(
                f"suite-{n % 2}", environment, None, None, None, at, at, "pytest-json-report",
                {"passed": 10}, 20, 0, f"digest-{n}", "", "api",
            )  # fmt: skip
            run_id = uow.runs.add(run=run)
            assert run_id is not None
            nodeids = sorted(rng.sample(NODES, rng.randrange(0, 9)))
            rows = [_failure(rng, run_id, n, x) for x in nodeids]
            # A test can fail in two phases of one run: two rows with the run's first node id,
            # so which of them is the run's first regression comes down to the row id.
            rows += [replace(r, phase="teardown", outcome="error") for r in rows[:1]]
            uow.failures.add_many(rows=[replace(f, environment=environment) for f in rows])
            uow.commit()


def rejudge(engine: Engine, rng: random.Random, share: float) -> int:
    """Move the judgement of a share of the stored failures, as re-judging writes it."""
    with SqlUnitOfWork(engine) as uow:
        stored = uow.judgements.scan(limit=100_000)
        changes = []
        for s in stored:
            if rng.random() >= share:
                continue
            issue, rule = rng.choice(ISSUES) if rng.random() < 0.5 else (None, None)
            f = s.record
            change = JudgementChange(
                s.id, f.run_id, f.suite, f.nodeid, f.known_issue, f.rule, f.classification,
                f.category, issue, rule, rng.choice(CLASSES), rng.choice(CATEGORIES),
                "knowledge", "", T0,
            )  # fmt: skip
            changes.append(change)
        uow.judgements.apply(changes=changes)
        uow.commit()
    return len(changes)


def _rows(engine: Engine, sql: str) -> set[tuple[Any, ...]]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(sql))}


def _same_time(rows: set[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """Times as text without zone: SQLite gives naive values, PostgreSQL aware ones."""
    return {tuple(v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v for v in r) for r in rows}


REGRESSION = "category = 'infrastructure' AND classification IN ('new', 'recurred')"
EXPECTED = {
    "run_tallies": (
        "SELECT run_id, classification, category, "
        "SUM(CASE WHEN outcome = 'flaky' THEN 0 ELSE 1 END), "
        "SUM(CASE WHEN outcome = 'flaky' THEN 1 ELSE 0 END) "
        "FROM failures GROUP BY run_id, classification, category",
        "SELECT run_id, classification, category, failures, flaky FROM run_tallies",
    ),
    "run_regressions": (
        "SELECT run_id, suite, started_at, id, nodeid, classification, exception, message "
        "FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY nodeid, id) AS n "
        f"FROM failures WHERE {REGRESSION}) AS firsts WHERE n = 1",
        "SELECT run_id, suite, started_at, failure_id, nodeid, classification, exception, "
        "message FROM run_regressions",
    ),
    "issue_totals": (
        "SELECT known_issue, COUNT(*), COUNT(DISTINCT run_id), MAX(started_at) "
        "FROM failures WHERE known_issue IS NOT NULL GROUP BY known_issue",
        "SELECT known_issue, occurrences, runs, last_seen FROM issue_totals",
    ),
    "rule_totals": (
        "SELECT known_issue, COALESCE(rule, ''), COUNT(*) "
        "FROM failures WHERE known_issue IS NOT NULL GROUP BY known_issue, COALESCE(rule, '')",
        "SELECT known_issue, rule, matches FROM rule_totals",
    ),
}


def assert_consistent(engine: Engine) -> None:
    for table, (raw, kept) in EXPECTED.items():
        expected, found = _same_time(_rows(engine, raw)), _same_time(_rows(engine, kept))
        assert found == expected, f"{table}: kept {found - expected}, missing {expected - found}"


@pytest.mark.parametrize("seed", [1, 2])
def test_summaries_follow_ingest_rejudging_and_deletions(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    add_runs(engine, rng, 0, 12)
    assert_consistent(engine)
    assert _rows(engine, "SELECT run_id FROM run_regressions"), "some run regressed"
    assert _rows(engine, "SELECT known_issue FROM issue_totals"), "some issue matched"

    for share in (0.3, 0.6, 1.0):  # the last round moves every failure, first ones included
        assert rejudge(engine, rng, share) > 0
        assert_consistent(engine)

    with engine.begin() as conn:  # single failures, a run's first regression among them
        firsts = [r[0] for r in conn.execute(text("SELECT failure_id FROM run_regressions"))]
        others = [r[0] for r in conn.execute(text("SELECT id FROM failures ORDER BY id"))][::5]
        for fid in firsts[:3] + others:
            conn.execute(text("DELETE FROM failures WHERE id = :id"), {"id": fid})
    assert_consistent(engine)

    with engine.begin() as conn:  # whole runs: their failures go by the foreign key's cascade
        conn.execute(text("DELETE FROM runs WHERE id IN (SELECT MIN(id) FROM runs)"))
        conn.execute(text("DELETE FROM runs WHERE id % 3 = 0"))
    assert_consistent(engine)

    add_runs(engine, rng, 12, 4)  # and counting starts again on what is left
    assert_consistent(engine)


def test_migration_backfills_the_summaries_from_stored_failures(database_url: str) -> None:
    upgrade(database_url, revision="0006")
    engine = make_engine(database_url)
    try:
        add_runs(engine, random.Random(5), 0, 10)
        upgrade(database_url)
        assert _rows(engine, "SELECT run_id FROM run_tallies"), "the backfill wrote tallies"
        assert_consistent(engine)
        rejudge(engine, random.Random(6), 0.5)
        assert_consistent(engine)
    finally:
        engine.dispose()
