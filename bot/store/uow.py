"""The SQL unit of work: one session, one transaction, every repository built on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy import Engine
from sqlmodel import Session

from bot.ports.outbox import Outbox
from bot.ports.store import (
    ClusterRepository,
    FailureRepository,
    IssueStateRepository,
    JudgementRepository,
    LinkRepository,
    ReadModels,
    RunIdentityRepository,
    RunRepository,
    SuiteTestRepository,
    WritebackHistory,
)
from bot.store.clusters import SqlClusters
from bot.store.deliveries import DeliveryRepository
from bot.store.engine import writer
from bot.store.identities import SqlRunIdentities
from bot.store.judgements import SqlJudgements
from bot.store.known_issues import SqlIssueStates, SqlLinks, SqlReadModels
from bot.store.outbox_repository import OutboxRepository
from bot.store.runs import SqlFailures, SqlRuns
from bot.store.suite_tests import SqlSuiteTests
from bot.store.task_checks import SqlTaskChecks
from bot.store.verdicts import SqlVerdictHistory
from bot.store.writeback import SqlWritebackHistory

OutboxFactory = Callable[[Session], Outbox]


def default_outbox_factory() -> OutboxFactory:
    """Return the SQL outbox, which writes in the unit of work's own session."""
    return OutboxRepository


class SessionUnitOfWork:
    """One session and one transaction; leaving without commit() rolls back.

    On SQLite a writing unit of work takes the write lock at BEGIN (BEGIN IMMEDIATE), so
    concurrent writers (threads or replicas) queue on busy_timeout instead of failing on a
    stale snapshot; pass write=False for read-only work. Subclasses add their repositories
    in bind().
    """

    session: Session
    outbox: Outbox

    def __init__(self, engine: Engine, *, write: bool, outbox: OutboxFactory | None) -> None:
        self.engine = engine
        self.write = write
        self._outbox_factory = outbox or default_outbox_factory()

    def __enter__(self) -> Self:
        # The transaction still begins lazily, at the first statement.
        bind = writer(self.engine) if self.write else self.engine
        self.session = Session(bind, expire_on_commit=False)
        # The outbox shares the session, so enqueued writes commit with what caused them.
        self.outbox = self._outbox_factory(self.session)
        self.bind(self.session)
        return self

    def bind(self, session: Session) -> None:
        """Build the repositories on the session."""

    def __exit__(self, *exc: object) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class SqlUnitOfWork(SessionUnitOfWork):
    """`with SqlUnitOfWork(engine) as uow: ...; uow.commit()`: every repository of the store."""

    runs: RunRepository
    failures: FailureRepository
    tests: SuiteTestRepository
    clusters: ClusterRepository
    issues: IssueStateRepository
    links: LinkRepository
    reads: ReadModels
    writeback: WritebackHistory
    deliveries: DeliveryRepository
    judgements: JudgementRepository
    identities: RunIdentityRepository
    verdicts: SqlVerdictHistory
    tasks: SqlTaskChecks

    def __init__(
        self, engine: Engine, *, write: bool = True, outbox: OutboxFactory | None = None
    ) -> None:
        super().__init__(engine, write=write, outbox=outbox)

    def bind(self, session: Session) -> None:
        """Build every repository on the session."""
        self.runs = SqlRuns(session)
        self.failures = SqlFailures(session)
        self.tests = SqlSuiteTests(session)
        self.clusters = SqlClusters(session)
        self.issues = SqlIssueStates(session)
        self.links = SqlLinks(session)
        self.reads = SqlReadModels(session)
        self.writeback = SqlWritebackHistory(session)
        self.deliveries = DeliveryRepository(session)
        self.judgements = SqlJudgements(session)
        self.identities = SqlRunIdentities(session)
        self.verdicts = SqlVerdictHistory(session)
        self.tasks = SqlTaskChecks(session)
