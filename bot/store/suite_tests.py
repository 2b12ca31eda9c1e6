"""Repository of the node ids each suite has run (read by the weekly pass rate)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from bot.core.model import TestResult
from bot.store.common import upsert
from bot.store.tables import SuiteTest

_TESTS = SuiteTest.__table__  # type: ignore[attr-defined]


class SqlSuiteTests:
    """The node ids each suite has run; a run adds only the ones not seen before."""

    __test__ = False

    def __init__(self, session: Session) -> None:
        self.session = session

    def record_run(
        self,
        *,
        suite: str,
        environment: str,
        tests: Sequence[TestResult],
        run_id: int,
        at: datetime,
    ) -> None:
        """Add the run's tests the suite has not run before (one read, then only new rows)."""
        if not tests:
            return
        known = set(
            self.session.scalars(
                select(_TESTS.c.nodeid).where(
                    _TESTS.c.suite == suite, _TESTS.c.environment == environment
                )
            )
        )
        new = sorted({t.nodeid for t in tests} - known)  # sorted: one lock order for writers
        if not new:
            return
        rows = [{"suite": suite, "environment": environment, "nodeid": n} for n in new]
        # A concurrent run of the suite may add the same test first: that is no error.
        stmt = upsert(self.session, _TESTS).on_conflict_do_nothing(
            index_elements=["suite", "environment", "nodeid"]
        )
        self.session.execute(stmt, rows)
