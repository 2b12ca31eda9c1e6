"""The suites' tests: a run adds only the node ids its suite has not run before."""

from __future__ import annotations

from sqlalchemy import Engine, event, select
from sqlmodel import Session

from bot.core.model import Outcome, TestResult
from bot.store.tables import SuiteTest
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import day


def record(engine: Engine, n: int, *nodeids: str, environment: str = "e") -> list[str]:
    """Record a run; return the SQL statements it sent."""
    sent: list[str] = []

    def log(conn: object, cursor: object, statement: str, *args: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", log)
    try:
        with SqlUnitOfWork(engine) as uow:
            tests = [TestResult(nodeid, Outcome.PASSED) for nodeid in nodeids]
            uow.tests.record_run(
                suite="s", environment=environment, tests=tests, run_id=n, at=day(n)
            )
            uow.commit()
    finally:
        event.remove(engine, "before_cursor_execute", log)
    return sent


def stored(engine: Engine) -> set[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.execute(select(SuiteTest.environment, SuiteTest.nodeid))
        return {(r[0], r[1]) for r in rows}


def inserts(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("INSERT"))


def test_a_run_of_known_tests_writes_nothing(engine: Engine) -> None:
    assert inserts(record(engine, 1, "t::a", "t::b")) == 1
    assert inserts(record(engine, 2, "t::b", "t::a")) == 0
    assert inserts(record(engine, 3, "t::a", "t::c")) == 1
    record(engine, 4, "t::a", environment="other")
    assert stored(engine) == {("e", "t::a"), ("e", "t::b"), ("e", "t::c"), ("other", "t::a")}
