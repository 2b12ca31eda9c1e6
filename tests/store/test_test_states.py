"""Per-test state: history letters capped at 32, times that only move forward, backfill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.core.model import Outcome, TestResult
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import day, engine_for

OUTCOMES = [Outcome.PASSED, Outcome.FAILED, Outcome.FLAKY, Outcome.SKIPPED, Outcome.ERROR]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with engine_for(database_url) as engine:
        yield engine


def record(engine: Engine, n: int, *results: TestResult) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.tests.record_run(suite="s", environment="e", tests=results, run_id=n, at=day(n))
        uow.commit()


def test_history_keeps_the_last_32_runs_in_order(engine: Engine) -> None:
    for n in range(40):
        record(engine, n, TestResult("t::a", OUTCOMES[n % 5]), TestResult("t::b", Outcome.PASSED))
    with SqlUnitOfWork(engine, write=False) as uow:
        states = uow.tests.get_many(suite="s", environment="e", nodeids=["t::a", "t::b"])
        other = uow.tests.get_many(suite="s", environment="other", nodeids=["t::a"])
    a = states["t::a"]
    assert a.history == ("PFKSF" * 8)[-32:]
    assert (a.last_outcome, a.last_run_id, a.last_run_at) == ("error", 39, day(39))
    assert a.last_passed_at == day(37)  # the flaky pass of run 37 passed in the end
    assert a.last_failed_at == day(39)
    assert states["t::b"].history == "P" * 32
    assert states["t::b"].last_failed_at is None
    assert other == {}


def test_an_older_run_only_widens_the_times(engine: Engine) -> None:
    record(engine, 10, TestResult("t::a", Outcome.FAILED))
    record(engine, 4, TestResult("t::a", Outcome.PASSED), TestResult("t::new", Outcome.FAILED))
    record(engine, 2, TestResult("t::a", Outcome.FAILED))
    with SqlUnitOfWork(engine, write=False) as uow:
        states = uow.tests.get_many(suite="s", environment="e", nodeids={"t::a", "t::new"})
    a = states["t::a"]
    assert (a.last_outcome, a.last_run_id, a.history) == ("failed", 10, "F")
    assert (a.last_passed_at, a.last_failed_at) == (day(4), day(10))
    assert states["t::new"].history == "F"
