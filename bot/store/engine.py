"""Database engines: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL through psycopg 3.

On SQLite the service is its own single writer: every write transaction (BEGIN IMMEDIATE)
first takes a process-wide lock per database file, held until the connection goes back to
the pool. Writers queue on the lock instead of racing for SQLite's, so "database is locked"
cannot reach a client; past `write_wait_s` the writer gets DatabaseBusy (answered 503).

SQLite's query planner needs statistics (sqlite_stat1) that nothing gathers by itself:
`refresh_statistics` analyses the tables that grew or shrank twofold since theirs (the service
runs it hourly), and pooled connections opened before an analysis are replaced, since a
connection reads the statistics only when it loads the schema.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError

from bot.core.errors import TriageError

SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql+psycopg",)
# Connection option that makes a SQLite transaction take the write lock at BEGIN.
IMMEDIATE = "triage_sqlite_immediate"
DEFAULT_WRITE_WAIT_S = 30.0
_HOLDS = "triage_write_lock"  # set in a pooled connection's info while it holds the lock
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
# A table is analysed again when its row count has doubled or halved since its statistics.
# Plans change with orders of magnitude, not percents; and the analyses of a growing table then
# read 1 + 2 + 4 + ... rows, at most twice its final size in all: constant work per stored row.
STATISTICS_GROWTH = 2.0
# How old a pooled SQLite connection may get: it also picks up statistics that another process
# (a second replica, a maintenance command) wrote, which no event here can see.
SQLITE_RECYCLE_S = 3600
_STATS_SEEN = "triage_statistics_generation"  # in a pooled connection's info


class DatabaseBusy(Exception):  # noqa: N818  a state, not a bug: the web edge answers 503
    """The embedded database's one writer stayed busy for longer than the bounded wait."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(f"the database is busy with other writes (waited {waited_s:g} s)")
        self.waited_s = waited_s


log = logging.getLogger(__name__)
T = TypeVar("T")
# PostgreSQL rolls back one transaction of a deadlock (40P01) or a serialization conflict
# (40001); concurrent uploads updating the same per-issue totals in different orders meet it.
CONFLICT_STATES = frozenset({"40P01", "40001"})
CONFLICT_ATTEMPTS = 3


def lost_a_conflict(exc: BaseException) -> bool:
    """True when the database rolled the transaction back to settle a conflict with another."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in CONFLICT_STATES


def retrying_conflicts(work: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS) -> T:
    """Run a whole transaction again when the database chose it to break a conflict.

    `work` must open, do and commit its transaction itself: a rolled-back attempt left nothing
    behind, so running it again is the same as running it once.
    """
    attempt = 1
    while True:
        try:
            return work()
        except DBAPIError as exc:
            if attempt >= attempts or not lost_a_conflict(exc):
                raise
            attempt += 1
            log.warning("a write lost a lock conflict to a concurrent one; attempt %d", attempt)


_WRITERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def writer(engine: Engine) -> Engine:
    """Return the engine whose transactions write: on SQLite they BEGIN IMMEDIATE, in turn.

    The one way to open a write transaction; the variant is made once per engine (making it
    per transaction cost a webhook delivery a tenth of its time).
    """
    if engine.dialect.name != "sqlite":
        return engine
    made = _WRITERS.get(engine)
    if made is None:
        made = _WRITERS[engine] = engine.execution_options(**{IMMEDIATE: True})
    return made


def _write_lock(database: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(database, threading.Lock())


def _scheme(url: str) -> str:
    head, sep, _ = url.partition("://")
    return head if sep else ""


def make_engine(
    url: str, *, busy_timeout_ms: int = 5000, write_wait_s: float = DEFAULT_WRITE_WAIT_S
) -> Engine:
    """Build an engine for a sqlite:/// or postgresql+psycopg:// URL; reject anything else."""
    scheme = _scheme(url)
    if scheme not in SQLITE_SCHEMES + POSTGRES_SCHEMES:
        raise TriageError(
            "bad_database_url",
            f"unsupported database URL scheme {scheme or '(none)'!r}: "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise TriageError("bad_database_url", f"malformed {scheme} database URL") from exc
    if scheme in POSTGRES_SCHEMES:
        return create_engine(parsed, pool_pre_ping=True)
    return _sqlite_engine(parsed, busy_timeout_ms, write_wait_s)


class _Statistics:
    """Which analysis of an engine's database its pooled connections must have read."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.generation = 0

    def advance(self) -> None:
        self.generation = next(self._counter)


_STATISTICS: weakref.WeakKeyDictionary[Engine, _Statistics] = weakref.WeakKeyDictionary()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def refresh_statistics(engine: Engine, *, growth: float = STATISTICS_GROWTH) -> list[str]:
    """Analyse the SQLite tables whose row count moved `growth`-fold since their statistics.

    Returns the tables analysed (none: nothing changed enough, PostgreSQL, in-memory SQLite).
    Without statistics SQLite plans by fixed guesses: with a year of failures stored (1M rows)
    an upload's read of the previous runs' failures of its flaky tests takes the suite index,
    9 million VM steps instead of a few thousand. Statistics of a month are as bad on a year:
    the write-back's read of an issue's failures in the last ten runs then scans the table in
    id order (a month's 82,000 rows looked cheaper than sorting 9,000): 10 million VM steps. And
    pooled connections keep the statistics they loaded with the schema, which a new analysis
    of an analysed table does not change: they are replaced at their next checkout.

    PostgreSQL needs none of this: autovacuum's autoanalyze re-analyses a table after 10% of
    it changed, and every connection sees the new statistics at once.

    Why not `PRAGMA optimize`: before SQLite 3.46 it only considers the tables that the same
    connection's queries used (a maintenance connection has used none), and only once they grew
    25-fold; and `PRAGMA analysis_limit`, which would bound the analysis, estimates a leading
    column with one value (`suite`) as selective: the dashboard's flaky-test query then reads a
    month of failures through the suite index, 580,000 VM steps against 2,000 with full
    statistics. So the tables are counted (0.1 s CPU with a year stored, `python -m bench
    history`) and analysed in full (1 s CPU for a year, once per doubling), holding the write
    lock so that the statistics table's write queues like any other.
    """
    statistics = _STATISTICS.get(engine)
    if statistics is None:
        return []
    with writer(engine).begin() as conn:
        tables = (
            conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            .scalars()
            .all()
        )
        known: dict[str, int] = {}
        has_stat1 = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        ).first()
        if has_stat1 is not None:
            # Every row of a table's statistics starts with the rows it counted.
            for table, stat in conn.exec_driver_sql("SELECT tbl, stat FROM sqlite_stat1"):
                known[table] = int(str(stat).split()[0])
        stale = []
        for table in tables:
            count = f"SELECT count(*) FROM {_quoted(table)}"  # noqa: S608  names from the schema
            rows = conn.exec_driver_sql(count).scalar_one()
            before = known.get(table)
            if rows and (before is None or not before / growth < rows < before * growth):
                stale.append(table)
        for table in stale:
            conn.exec_driver_sql(f"ANALYZE {_quoted(table)}")
    if stale:
        statistics.advance()
        log.info("planner statistics refreshed: %s", ", ".join(stale))
    return stale


def _sqlite_engine(url: Any, busy_timeout_ms: int, write_wait_s: float) -> Engine:
    # Writers wait on the write lock holding a connection: room for every request thread.
    # (An in-memory database has a pool of one connection per thread, without these knobs:
    # replacing a connection there would lose the database.)
    in_memory = url.database in (None, "", ":memory:")
    pool = (
        {}
        if in_memory
        else {
            "pool_size": 8,
            "max_overflow": 64,
            "pool_timeout": write_wait_s,
            "pool_recycle": SQLITE_RECYCLE_S,
        }
    )
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}, **pool
    )

    statistics = _Statistics()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        record.info[_STATS_SEEN] = statistics.generation

    if not in_memory:
        _STATISTICS[engine] = statistics

        @event.listens_for(engine, "checkout")
        def _on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
            # A connection plans with the statistics it read when it loaded the schema: one
            # from before the last analysis is replaced (the pool opens a new one in its place).
            if record.info.get(_STATS_SEEN, 0) < statistics.generation:
                raise DisconnectionError("planner statistics changed since it was opened")

    lock = _write_lock(url.database or ":memory:")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock at BEGIN, so two writers queue instead of one failing with
        # SQLITE_BUSY_SNAPSHOT when it upgrades a stale read snapshot.
        if not conn.get_execution_options().get(IMMEDIATE, False):
            conn.exec_driver_sql("BEGIN")
            return
        if not conn.info.get(_HOLDS):
            if not lock.acquire(timeout=write_wait_s):
                raise DatabaseBusy(write_wait_s)
            conn.info[_HOLDS] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # other processes: busy_timeout
        except Exception:
            _release(conn.info)
            raise

    def _release(info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS, False):
            lock.release()

    # Released when the connection is back in the pool: after its COMMIT or ROLLBACK ran.
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi: Any, record: Any) -> None:
        if record is not None:
            _release(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi: Any, record: Any, _exc: Any) -> None:
        _release(record.info)

    return engine
