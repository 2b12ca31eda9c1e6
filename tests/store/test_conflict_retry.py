"""A transaction PostgreSQL rolls back to break a deadlock runs again instead of failing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from bot.store.engine import lost_a_conflict, retrying_conflicts

pytestmark = pytest.mark.postgres


def _table(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE totals (k int PRIMARY KEY, n int NOT NULL)"))
        conn.execute(text("INSERT INTO totals VALUES (1, 0), (2, 0)"))
    engine.dispose()


def _deadlocking_work(
    url: str,
) -> tuple[list[int], Callable[[], list[int]], Callable[[], None]]:
    """Work that takes row 1 then row 2 while another session holds 2 and then wants 1."""
    engine = create_engine(url)
    attempts: list[int] = []
    took_first, other_holds_second = threading.Event(), threading.Event()

    def other() -> None:
        # The other session waits longest before looking for a deadlock, so PostgreSQL always
        # picks the work's transaction to roll back.
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SET LOCAL deadlock_timeout = '20s'"))
            conn.execute(text("UPDATE totals SET n = n + 10 WHERE k = 2"))
            other_holds_second.set()
            took_first.wait(30)
            conn.execute(text("UPDATE totals SET n = n + 10 WHERE k = 1"))

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    assert other_holds_second.wait(30)

    def work() -> list[int]:
        attempts.append(len(attempts) + 1)
        with engine.connect() as conn, conn.begin():
            conn.execute(text("UPDATE totals SET n = n + 1 WHERE k = 1"))
            took_first.set()
            conn.execute(text("UPDATE totals SET n = n + 1 WHERE k = 2"))
            return [int(n) for (n,) in conn.execute(text("SELECT n FROM totals ORDER BY k"))]

    def finish() -> None:
        thread.join(30)
        engine.dispose()

    return attempts, work, finish


def test_a_deadlocked_transaction_runs_again_and_counts_once(postgres_url: str) -> None:
    _table(postgres_url)
    attempts, work, finish = _deadlocking_work(postgres_url)
    totals = retrying_conflicts(work)
    finish()
    assert attempts == [1, 2]
    assert totals == [11, 11]  # the other session's +10 and this work's +1, once each


def test_without_the_retry_the_deadlock_is_a_conflict_and_other_errors_are_not(
    postgres_url: str,
) -> None:
    _table(postgres_url)
    _, work, finish = _deadlocking_work(postgres_url)
    with pytest.raises(DBAPIError) as lost:
        work()
    finish()
    assert lost_a_conflict(lost.value)
    engine = create_engine(postgres_url)
    with pytest.raises(DBAPIError) as other, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    engine.dispose()
    assert not lost_a_conflict(other.value)
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise other.value

    with pytest.raises(DBAPIError):
        retrying_conflicts(broken)
    assert calls == [1]  # only a lost conflict is run again
