"""The SQL unit of work: one session, one transaction, every repository built on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy import Engine
from sqlmodel import Session

from bot.ports import (
    ClusterRepository,
    FailureRepository,
    IssueStateRepository,
    LinkRepository,
    Outbox,
    ReadModels,
    RunRepository,
    TestStateRepository,
    WritebackHistory,
)
from bot.store.engine import IMMEDIATE
from bot.store.history import SqlClusters, SqlTestStates
from bot.store.links import SqlIssueStates, SqlLinks, SqlReadModels
from bot.store.outbox import OutboxRepository
from bot.store.runs import SqlFailures, SqlRuns
from bot.store.writeback import SqlWritebackHistory

OutboxFactory = Callable[[Session], Outbox]


def default_outbox_factory() -> OutboxFactory:
    """Return the SQL outbox, which writes in the unit of work's own session."""
    return OutboxRepository


class SqlUnitOfWork:
    """`with SqlUnitOfWork(engine) as uow: ...; uow.commit()`; leaving without commit rolls back.

    On SQLite a writing unit of work takes the write lock at BEGIN (BEGIN IMMEDIATE), so
    concurrent writers queue on busy_timeout; pass write=False for read-only work.
    """

    session: Session
    runs: RunRepository
    failures: FailureRepository
    tests: TestStateRepository
    clusters: ClusterRepository
    issues: IssueStateRepository
    links: LinkRepository
    reads: ReadModels
    outbox: Outbox
    writeback: WritebackHistory

    def __init__(
        self, engine: Engine, *, write: bool = True, outbox: OutboxFactory | None = None
    ) -> None:
        self.engine = engine
        self.write = write
        self._outbox_factory = outbox

    def __enter__(self) -> Self:
        bind = self.engine
        if self.write and bind.dialect.name == "sqlite":
            # The transaction still begins lazily, at the first statement.
            bind = bind.execution_options(**{IMMEDIATE: True})
        session = Session(bind, expire_on_commit=False)
        self.session = session
        self.runs = SqlRuns(session)
        self.failures = SqlFailures(session)
        self.tests = SqlTestStates(session)
        self.clusters = SqlClusters(session)
        self.issues = SqlIssueStates(session)
        self.links = SqlLinks(session)
        self.reads = SqlReadModels(session)
        # The outbox shares the session, so enqueued writes commit with the run that caused them.
        factory = self._outbox_factory or default_outbox_factory()
        self.outbox = factory(session)
        self.writeback = SqlWritebackHistory(session)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def unit_of_work_factory(engine: Engine, *, write: bool = True) -> Callable[[], SqlUnitOfWork]:
    """Return a callable building a fresh unit of work on the engine."""
    return lambda: SqlUnitOfWork(engine, write=write)
