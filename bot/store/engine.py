"""Database engines: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL through psycopg 3."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

from bot.core.errors import TriageError

SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql+psycopg",)
# Connection option that makes a SQLite transaction take the write lock at BEGIN.
IMMEDIATE = "triage_sqlite_immediate"


def _scheme(url: str) -> str:
    head, sep, _ = url.partition("://")
    return head if sep else ""


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
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
    return _sqlite_engine(parsed, busy_timeout_ms)


def _sqlite_engine(url: Any, busy_timeout_ms: int) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock at BEGIN, so two writers queue on busy_timeout instead of one
        # failing with SQLITE_BUSY_SNAPSHOT when it upgrades a stale read snapshot.
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
