"""Database engines: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL through psycopg 3.

On SQLite the service is its own single writer: every write transaction (BEGIN IMMEDIATE)
first takes a process-wide lock per database file, held until the connection goes back to
the pool. Writers queue on the lock instead of racing for SQLite's, so "database is locked"
cannot reach a client; past `write_wait_s` the writer gets DatabaseBusy (answered 503).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.core.errors import TriageError

SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql+psycopg",)
# Connection option that makes a SQLite transaction take the write lock at BEGIN.
IMMEDIATE = "triage_sqlite_immediate"
DEFAULT_WRITE_WAIT_S = 30.0
_HOLDS = "triage_write_lock"  # set in a pooled connection's info while it holds the lock
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


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


def _sqlite_engine(url: Any, busy_timeout_ms: int, write_wait_s: float) -> Engine:
    # Writers wait on the write lock holding a connection: room for every request thread.
    # (An in-memory database has a pool of one connection per thread, without these knobs.)
    in_memory = url.database in (None, "", ":memory:")
    pool = {} if in_memory else {"pool_size": 8, "max_overflow": 64, "pool_timeout": write_wait_s}
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}, **pool
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

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
