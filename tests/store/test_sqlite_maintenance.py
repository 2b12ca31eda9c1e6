"""SQLite's planner statistics follow the history: `refresh_statistics`, the service's hourly job.

Nothing in SQLite gathers statistics by itself, and a connection reads them only when it loads
the schema: these tests load a year of history the way it grows in the service (no ANALYZE),
through an engine whose pooled connection was opened before, and check what the job leaves:
statistics that count the rows, connections replaced, and the upload's reads of the previous
runs seeking the index made for them; and that the service runs the job when it starts. Work is
counted in rows and plans, never in time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bench.history import ENV, START, SUITE, load, operations, split
from bot.store.engine import make_engine, refresh_statistics
from bot.store.migrate import upgrade
from bot.store.uow import SqlUnitOfWork
from bot.web.app import create_app
from tests.web.conftest import make_settings, serving, wait_for

AT = START + timedelta(days=365, hours=2)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def _driver(engine: Engine) -> object:
    """The DBAPI connection the pool hands out next (then given back)."""
    raw = engine.raw_connection()
    try:
        return raw.driver_connection
    finally:
        raw.close()


def _stat_rows(sqlite_url: str, table: str) -> set[int]:
    """The row counts the statistics of `table` were taken at (one per index)."""
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        stats = conn.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = ?", (table,)).fetchall()
    return {int(stat.split()[0]) for (stat,) in stats}


def _count(sqlite_url: str, table: str) -> int:
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        rows: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return rows


def _previous_runs_plans(engine: Engine) -> list[str]:
    """The plans of an upload's reads of the previous runs' failures, through the engine.

    With the upload, the read of the previous runs' failures of tests just judged flaky (sent
    when the upload has some, so sent here directly, as the ingest sends it).
    """
    sent: list[tuple[str, Any]] = []

    def log(*args: Any) -> None:
        _conn, _cursor, statement, params, _context, many = args
        if not many and "FROM failures" in statement and "failures.run_id IN" in statement:
            sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", log)
    try:
        operations(engine, AT)["upload of 23 tests"]()
        with SqlUnitOfWork(engine, write=False) as uow:
            previous = uow.runs.previous(suite=SUITE, environment=ENV, before=AT, limit=9)
            uow.judgements.of_tests(
                suite=SUITE, environment=ENV, nodeids={"tests/a.py::t", "tests/b.py::t"},
                run_ids=previous,
            )  # fmt: skip
    finally:
        event.remove(engine, "before_cursor_execute", log)
    assert any("failures.nodeid IN" in statement for statement, _ in sent)
    plans = []
    for statement, params in sent:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
            plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))
        finally:
            raw.close()
    return plans


def test_the_job_analyses_the_tables_that_grew_and_then_nothing(
    engine: Engine, sqlite_url: str
) -> None:
    assert "failures" not in refresh_statistics(engine)  # empty: nothing to learn
    for part in split(3_000):
        load(sqlite_url, part, analyse=False)

    analysed = refresh_statistics(engine)

    assert {"failures", "runs", "issue_tallies", "run_tallies"} <= set(analysed)
    assert _stat_rows(sqlite_url, "failures") == {_count(sqlite_url, "failures")}
    assert refresh_statistics(engine) == []  # nothing moved since: counts only


def test_a_table_is_analysed_again_once_it_doubled(engine: Engine, sqlite_url: str) -> None:
    recent, older = split(6_000)
    load(sqlite_url, recent, analyse=False)
    refresh_statistics(engine)
    month = _count(sqlite_url, "failures")
    load(sqlite_url, older, analyse=False)
    year = _count(sqlite_url, "failures")
    assert year >= 2 * month, "the test needs the table to double"

    assert "failures" in refresh_statistics(engine)
    assert _stat_rows(sqlite_url, "failures") == {year}


def test_connections_opened_before_an_analysis_are_replaced(
    engine: Engine, sqlite_url: str
) -> None:
    recent, older = split(3_000)
    load(sqlite_url, recent, analyse=False)
    refresh_statistics(engine)
    operations(engine, AT)["dashboard"]()  # the pooled connection plans with these statistics
    before = _driver(engine)
    assert refresh_statistics(engine) == []
    assert _driver(engine) is before, "the pool hands the same connection out while nothing moved"

    load(sqlite_url, older, analyse=False)
    assert "failures" in refresh_statistics(engine)

    # Re-analysing an analysed table leaves the schema as it was: a connection from before
    # would keep planning with the month's statistics for the year's rows.
    assert _driver(engine) is not before


def test_after_the_job_the_upload_seeks_the_previous_runs_by_run(
    engine: Engine, sqlite_url: str
) -> None:
    operations(engine, AT)["upload of 23 tests"]()  # the connection predates the history
    for part in split(3_000):
        load(sqlite_url, part, analyse=False)
    # Without statistics SQLite guesses that the suite and environment narrow the most: with a
    # year stored the flaky tests' read then passes over every failure of the suite (9 million
    # VM steps at a million rows, against a few thousand by run and test).
    unanalysed = _previous_runs_plans(engine)
    assert any("ix_failures_suite_started" in plan for plan in unanalysed), unanalysed

    refresh_statistics(engine)

    plans = _previous_runs_plans(engine)
    assert all("ix_failures_run_nodeid" in plan for plan in plans), plans


def test_the_service_gathers_statistics_at_start(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    for part in split(3_000):  # a history stored before (a backfill), never analysed
        load(sqlite_url, part, analyse=False)
    settings = make_settings(sqlite_url, scheduler_enabled=True, outbox_sender_enabled=False)

    def analysed() -> bool:
        try:
            return _stat_rows(sqlite_url, "failures") == {_count(sqlite_url, "failures")}
        except sqlite3.OperationalError:  # no sqlite_stat1 yet
            return False

    with serving(create_app(settings)):
        wait_for(analysed)
