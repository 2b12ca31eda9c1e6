"""Engines: SQLite pragmas, PostgreSQL through psycopg, clear errors for other URLs."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from bot.core.errors import TriageError
from bot.store.engine import make_engine
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import migrated_engine


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("mysql://root:hunter2@db/triage", "mysql"),
        ("postgresql://app:hunter2@db/triage", "postgresql"),
        ("postgresql+psycopg2://app:hunter2@db/triage", "postgresql+psycopg2"),
        ("triage.db", "(none)"),
        ("", "(none)"),
    ],
)
def test_other_urls_are_rejected_naming_the_scheme_without_the_password(
    url: str, scheme: str
) -> None:
    with pytest.raises(TriageError) as raised:
        make_engine(url)
    assert raised.value.reason == "bad_database_url"
    assert repr(scheme) in str(raised.value) or scheme == "(none)"
    assert scheme in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_malformed_postgres_url_does_not_echo_the_password() -> None:
    with pytest.raises(TriageError) as raised:
        make_engine("postgresql+psycopg://app:hunter2@db:notaport/triage")
    assert raised.value.reason == "bad_database_url"
    assert "hunter2" not in str(raised.value)


def test_sqlite_engine_uses_wal_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, busy_timeout_ms=1234)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1234
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_engine_connects_with_psycopg(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    finally:
        engine.dispose()


def _can_write(sqlite_url: str) -> bool:
    """Try to take the write lock from another connection, waiting 50 ms at most."""
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0.05)
    conn.isolation_level = None
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    finally:
        conn.close()
    return True


def test_writing_units_of_work_take_the_sqlite_write_lock_at_first_use(sqlite_url: str) -> None:
    engine = migrated_engine(sqlite_url)
    try:
        with SqlUnitOfWork(engine) as writer:
            assert _can_write(sqlite_url)  # nothing ran yet
            writer.runs.page(suite=None, offset=0, limit=1)  # a read, in a write transaction
            assert not _can_write(sqlite_url)
        assert _can_write(sqlite_url)
        with SqlUnitOfWork(engine, write=False) as reader:
            reader.runs.page(suite=None, offset=0, limit=1)
            assert _can_write(sqlite_url)
    finally:
        engine.dispose()
