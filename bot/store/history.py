"""Repositories of per-test state and of clusters of unmatched failures."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from bot.core.classify import FAILED, FLAKY, PASSED, letter
from bot.core.model import TestResult
from bot.ports import ClusterRecord, TestState
from bot.store.common import maybe_utc, upsert, utc
from bot.store.tables import HISTORY_CAP, Cluster
from bot.store.tables import TestState as TestStateRow

_STATES = TestStateRow.__table__  # type: ignore[attr-defined]
_CLUSTERS = Cluster.__table__  # type: ignore[attr-defined]


def _newer_or_equal(stmt: Any) -> Any:
    return stmt.excluded.last_run_at >= _STATES.c.last_run_at


def _latest(stmt: Any, name: str) -> Any:
    """The later of the stored and the new time, so a backfilled run only widens it."""
    new, old = stmt.excluded[name], _STATES.c[name]
    return case((old.is_(None), new), ((new.is_not(None)) & (new > old), new), else_=old)


def _tail(session: Session, text: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.right(text, HISTORY_CAP)
    return func.substr(text, -HISTORY_CAP)


class SqlTestStates:
    """One row per test of a suite, merged in the database by one executemany per run."""

    __test__ = False

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_many(
        self, *, suite: str, environment: str, nodeids: Collection[str]
    ) -> dict[str, TestState]:
        """Return the stored state of the given tests of a suite."""
        if not nodeids:
            return {}
        query = select(_STATES).where(
            _STATES.c.suite == suite, _STATES.c.environment == environment
        )
        found: dict[str, TestState] = {}
        for row in self.session.execute(query):
            if row.nodeid in nodeids:
                found[row.nodeid] = TestState(
                    nodeid=row.nodeid,
                    last_outcome=row.last_outcome,
                    last_run_id=row.last_run_id,
                    last_run_at=utc(row.last_run_at),
                    last_passed_at=maybe_utc(row.last_passed_at),
                    last_failed_at=maybe_utc(row.last_failed_at),
                    history=row.history,
                )
        return found

    def record_run(
        self,
        *,
        suite: str,
        environment: str,
        tests: Sequence[TestResult],
        run_id: int,
        at: datetime,
    ) -> None:
        """Fold one run's results into the tests' state; an older run keeps newer state.

        The merge happens in the database (no read first): the last outcome, run and history
        move only when this run is not older than the stored one; the last passed and failed
        times only ever move forward.
        """
        if not tests:
            return
        at = utc(at)
        values = []
        # One lock order for every writer, so concurrent runs of a suite cannot deadlock.
        for test in sorted(tests, key=lambda t: t.nodeid):
            ch = letter(test.outcome)
            values.append(
                {
                    "suite": suite,
                    "environment": environment,
                    "nodeid": test.nodeid,
                    "last_outcome": test.outcome.value,
                    "last_run_id": run_id,
                    "last_run_at": at,
                    "last_passed_at": at if ch in (PASSED, FLAKY) else None,
                    "last_failed_at": at if ch == FAILED else None,
                    "history": ch,
                }
            )
        stmt = upsert(self.session, _STATES)
        newer = _newer_or_equal(stmt)
        moved = {
            name: case((newer, stmt.excluded[name]), else_=_STATES.c[name])
            for name in ("last_outcome", "last_run_id", "last_run_at")
        }
        history = _tail(self.session, _STATES.c.history + stmt.excluded.history)
        stmt = stmt.on_conflict_do_update(
            index_elements=["suite", "environment", "nodeid"],
            set_={
                **moved,
                "history": case((newer, history), else_=_STATES.c.history),
                "last_passed_at": _latest(stmt, "last_passed_at"),
                "last_failed_at": _latest(stmt, "last_failed_at"),
            },
        )
        self.session.execute(stmt, values)


def _cluster_record(row: Any) -> ClusterRecord:
    return ClusterRecord(
        fingerprint=row.fingerprint,
        suite=row.suite,
        first_seen=utc(row.first_seen),
        last_seen=utc(row.last_seen),
        count=row.count,
        runs=row.runs,
        exception=row.exception,
        example_nodeid=row.example_nodeid,
        example_message=row.example_message,
        suggested_rule=row.suggested_rule,
    )


class SqlClusters:
    """Unmatched fingerprints with counts that add up run after run."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, *, hits: Sequence[ClusterRecord]) -> None:
        """Add one run's unmatched failures to their clusters."""
        if not hits:
            return
        values = [
            {
                "fingerprint": h.fingerprint,
                "suite": h.suite,
                "first_seen": utc(h.first_seen),
                "last_seen": utc(h.last_seen),
                "count": h.count,
                "runs": h.runs,
                "exception": h.exception,
                "example_nodeid": h.example_nodeid,
                "example_message": h.example_message,
                "suggested_rule": h.suggested_rule,
            }
            for h in sorted(hits, key=lambda h: h.fingerprint)  # one lock order for all writers
        ]
        statement = upsert(self.session, _CLUSTERS)
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["fingerprint"],
            set_={
                "count": _CLUSTERS.c.count + new.count,
                "runs": _CLUSTERS.c.runs + new.runs,
                "first_seen": case(
                    (new.first_seen < _CLUSTERS.c.first_seen, new.first_seen),
                    else_=_CLUSTERS.c.first_seen,
                ),
                "last_seen": case(
                    (new.last_seen > _CLUSTERS.c.last_seen, new.last_seen),
                    else_=_CLUSTERS.c.last_seen,
                ),
            },
        )
        self.session.execute(statement, values)

    def top(self, *, offset: int, limit: int) -> tuple[list[ClusterRecord], int]:
        """Return clusters by failure count, largest first, and the total."""
        total = self.session.execute(select(func.count()).select_from(_CLUSTERS)).scalar_one()
        query = (
            select(_CLUSTERS)
            .order_by(_CLUSTERS.c.count.desc(), _CLUSTERS.c.last_seen.desc(), _CLUSTERS.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [_cluster_record(r) for r in self.session.execute(query)], int(total)
