"""The hot paths never scan the failures table: every query they send uses an index.

A small upload (ingest and write-back planning), the known-issues list, the objective and the
dashboard run on both databases; each SELECT they send that reads `failures` is explained
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN with sequential scans priced out on PostgreSQL, so the
plan shows whether an index *can* serve it) and must not scan the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bench.history import START, load, operations, split
from bot.store.engine import make_engine
from bot.store.migrate import upgrade


@pytest.fixture
def year_engine(database_url: str) -> Iterator[Engine]:
    """A year of history, so the planner has a reason to choose (the shared `engine` is empty)."""
    upgrade(database_url)
    for part in split(3_000):  # three runs a day for a year, a few failures each
        load(database_url, part)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _sent(engine: Engine, run: Any) -> list[tuple[str, Any]]:
    """Run `run()` and return the single-row statements it sent."""
    sent: list[tuple[str, Any]] = []

    def log(*args: Any) -> None:
        _conn, _cursor, statement, params, _context, many = args
        if not many and statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", log)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", log)
    return sent


def _plan(engine: Engine, statement: str, params: Any) -> str:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
    finally:
        raw.close()


def _full_scans(plan: str) -> list[str]:
    """The lines of a plan that read the whole failures table."""
    return [
        line
        for line in plan.splitlines()
        if "Seq Scan on failures" in line
        or (line.strip().startswith("SCAN failures") and "INDEX" not in line)
    ]


def test_hot_paths_use_indexes_on_failures(year_engine: Engine) -> None:
    checked = 0
    for name, op in operations(year_engine, START + timedelta(days=365, hours=2)).items():
        for statement, params in _sent(year_engine, op):
            if "failures" not in statement:
                continue
            checked += 1
            plan = _plan(year_engine, statement, params)
            assert not _full_scans(plan), f"{name}: {statement}\n{plan}"
    assert checked >= 3, "the hot paths read failures somewhere (the upload's previous runs)"


# The reads that must not grow with history: the tables they may read, and the summaries
# each one must read (so a return to counting failures fails here, not only in a benchmark).
SUMMARIES = {
    "known issues": {"issue_totals", "rule_totals"},
    "objective": {"run_regressions"},
    "objective, 10 resets": {"run_regressions"},
    "dashboard": {"run_regressions", "issue_tallies", "run_tallies"},
}
HISTORY = ("failures", "run_regressions", "issue_tallies", "run_tallies")


def _unbounded(plan: str, table: str) -> list[str]:
    """Plan lines reading all of `table` (an index read in full counts as a scan too)."""
    lines = plan.splitlines()
    found = []
    for i, line in enumerate(lines):
        words = line.replace("->", " ").split()
        if words[:2] == ["SCAN", table]:  # SQLite: SCAN is a full pass, SEARCH a seek
            found.append(line)
        if "Scan" in line and f" on {table} " in f"{line} ":  # PostgreSQL
            depth = len(line) - len(line.lstrip(" ->"))
            below = []
            for child in lines[i + 1 :]:
                if len(child) - len(child.lstrip(" ->")) <= depth or "->" in child:
                    break
                below.append(child)
            if not any("Index Cond" in c or "Recheck Cond" in c for c in below):
                found.append(line)
    return found


def test_reads_of_history_come_from_summaries_by_seeks(year_engine: Engine) -> None:
    ops = operations(year_engine, START + timedelta(days=365, hours=2))
    for name, wanted in SUMMARIES.items():
        sent = _sent(year_engine, ops[name])
        read = {t for t in (*HISTORY, "issue_totals", "rule_totals") for s, _ in sent if t in s}
        assert wanted <= read, f"{name} reads {sorted(read)}"
        if name != "dashboard":  # the dashboard's flaky tests are failures, sought by index
            assert "failures" not in read, f"{name} reads failures"
        for statement, params in sent:
            plan = _plan(year_engine, statement, params)
            for table in HISTORY:
                if table in statement:
                    assert not _unbounded(plan, table), f"{name}: {statement}\n{plan}"


def _writeback_reads(engine: Engine) -> list[tuple[str, Any]]:
    """The SELECTs of an upload sent after its failures are stored: the write-back's reads."""
    ops = operations(engine, START + timedelta(days=365, hours=2))
    sent = _sent(engine, ops["upload of 23 tests"])
    tables = ("issue_tallies", "issue_totals", "FROM failures")
    return [(s, p) for s, p in sent if any(t in s for t in tables)]


def test_the_uploads_write_back_reads_seek_the_issue_history(year_engine: Engine) -> None:
    # The matched issues' whole history is in these tables: each read must seek, never scan.
    sent = _writeback_reads(year_engine)
    statements = [s for s, _ in sent]
    assert any("max(runs.started_at)" in s for s in statements), "the issue's suites' last run"
    assert any("FROM failures" in s and "known_issue" in s for s in statements), "latest runs"
    assert sum("issue_tallies" in s for s in statements) >= 5, statements
    for statement, params in sent:
        plan = _plan(year_engine, statement, params)
        for table in ("failures", "issue_tallies"):
            if f"FROM {table}" in statement or f"JOIN {table}" in statement:
                assert not _unbounded(plan, table), f"{statement}\n{plan}"


def test_the_latest_runs_failures_are_read_by_run_not_along_the_issues_history(
    year_engine: Engine,
) -> None:
    # The issue's latest runs are known by id: their failures come from the (run, node) index.
    # Along the (issue, time) index the read would walk every failure the issue ever had.
    sent = _writeback_reads(year_engine)
    latest = [
        (s, p) for s, p in sent if "FROM failures" in s and "run_id IN" in s and "known_issue" in s
    ]
    assert latest, [s for s, _ in sent]
    for statement, params in latest:
        plan = _plan(year_engine, statement, params)
        assert "ix_failures_issue_started" not in plan, f"{statement}\n{plan}"
        assert "ix_failures_run_nodeid" in plan, f"{statement}\n{plan}"
