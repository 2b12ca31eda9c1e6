"""Read queries of the dashboard's pages: one issue, one cluster, one test; each one bounded."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bot.core.clusters import ClusterSummary
from bot.ports.store import FailureRecord, TestState
from bot.store.clusters import _cluster_record
from bot.store.common import utc
from bot.store.outbox_repository import DEAD
from bot.store.runs import failure_record
from bot.store.tables import Cluster, CommentRecord, FailureRow, OutboxRow, Run
from bot.store.uow import SqlUnitOfWork

_F = FailureRow.__table__.c  # type: ignore[attr-defined]
_R = Run.__table__.c  # type: ignore[attr-defined]
STRIP_RUNS = 32  # runs of a test's pass/fail strip
_C = Cluster.__table__.c  # type: ignore[attr-defined]
_M = CommentRecord.__table__.c  # type: ignore[attr-defined]
_O = OutboxRow.__table__.c  # type: ignore[attr-defined]
FLAKY = "flaky"  # flaky passes are stored beside failures; they are not occurrences


class SqlPageReads:
    """The PageReads port of bot.services.pages, inside the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def issue_daily(self, *, issue: int, start: datetime, tz: tzinfo) -> dict[date, int]:
        """Count an issue's occurrences (every suite) per day since `start`."""
        rows = self.session.execute(
            select(_F.started_at, func.count())
            .where(_F.known_issue == issue, _F.started_at >= start, _F.outcome != FLAKY)
            .group_by(_F.started_at)
        )
        out: dict[date, int] = defaultdict(int)
        for at, n in rows:
            out[utc(at).astimezone(tz).date()] += int(n)
        return dict(out)

    def issue_tests(self, *, issue: int, limit: int) -> list[tuple[str, str, int, datetime]]:
        """List the tests an issue hit most: (suite, node id, occurrences, last seen)."""
        n = func.count().label("n")
        rows = self.session.execute(
            select(_F.suite, _F.nodeid, n, func.max(_F.started_at))
            .where(_F.known_issue == issue, _F.outcome != FLAKY)
            .group_by(_F.suite, _F.nodeid)
            .order_by(n.desc(), _F.suite, _F.nodeid)
            .limit(limit)
        )
        return [(r[0], r[1], int(r[2]), utc(r[3])) for r in rows]

    def sticky_comment(self, *, issue: int) -> int | None:
        """Return the id of the bot's latest marked comment on the issue, if one was written."""
        row = self.session.execute(
            select(_M.comment_id).where(_M.issue == issue).order_by(_M.updated_at.desc()).limit(1)
        ).first()
        return int(row[0]) if row else None

    def cluster(self, *, fingerprint: str) -> ClusterSummary | None:
        row = self.session.execute(select(Cluster).where(_C.fingerprint == fingerprint)).first()
        return _cluster_record(row[0]) if row else None

    def filed_issue(self, *, fingerprint: str) -> int | None:
        """Return the issue the bot opened for this fingerprint, when it did."""
        row = self.session.execute(
            select(_O.result_id).where(_O.key == f"fingerprint:{fingerprint}", _O.state != DEAD)
        ).first()
        return int(row[0]) if row and row[0] is not None else None

    def _failures(self, *where: Any, limit: int) -> list[FailureRecord]:
        rows = self.session.execute(
            select(FailureRow.__table__)  # type: ignore[attr-defined]
            .where(*where)
            .order_by(_F.started_at.desc(), _F.id.desc())
            .limit(limit)
        )
        return [failure_record(r) for r in rows]

    def with_fingerprint(self, *, fingerprint: str, limit: int) -> list[FailureRecord]:
        """Return the newest failures with this fingerprint."""
        return self._failures(_F.fingerprint == fingerprint, limit=limit)

    def newest_failures(self, *, limit: int) -> list[FailureRecord]:
        """Return the newest stored failures (flaky passes left out), newest first."""
        return self._failures(_F.outcome != FLAKY, limit=limit)

    def test_failures(self, *, suite: str, nodeid: str, limit: int) -> list[FailureRecord]:
        """Return a test's newest failures and flaky passes in a suite."""
        return self._failures(_F.suite == suite, _F.nodeid == nodeid, limit=limit)

    def test_states(self, *, suite: str, nodeid: str) -> list[tuple[str, TestState]]:
        """Return the test's recent results in each environment it failed in, from the runs."""
        environments = self.session.scalars(
            select(_F.environment).where(_F.suite == suite, _F.nodeid == nodeid).distinct()
        ).all()
        states = [(env, self._state(suite, env, nodeid)) for env in sorted(environments)]
        return [(env, state) for env, state in states if state is not None]

    def _state(self, suite: str, environment: str, nodeid: str) -> TestState | None:
        runs = self.session.execute(
            select(_R.id, _R.started_at)
            .where(_R.suite == suite, _R.environment == environment)
            .order_by(_R.started_at.desc(), _R.id.desc())
            .limit(STRIP_RUNS)
        ).all()
        if not runs:
            return None
        outcomes = dict(
            self.session.execute(
                select(_F.run_id, _F.outcome).where(
                    _F.run_id.in_([r.id for r in runs]), _F.nodeid == nodeid
                )
            ).all()
        )
        oldest_first = list(reversed(runs))
        letters = "".join(_letter(outcomes.get(r.id)) for r in oldest_first)
        passed = [utc(r.started_at) for r in oldest_first if _letter(outcomes.get(r.id)) != "F"]
        failed = [utc(r.started_at) for r in oldest_first if _letter(outcomes.get(r.id)) == "F"]
        newest = runs[0]
        return TestState(
            nodeid=nodeid,
            last_outcome=_OUTCOME[letters[-1]],
            last_run_id=newest.id,
            last_run_at=utc(newest.started_at),
            last_passed_at=passed[-1] if passed else None,
            last_failed_at=failed[-1] if failed else None,
            history=letters,
        )


_OUTCOME = {"P": "passed", "F": "failed", "K": "flaky"}


def _letter(outcome: str | None) -> str:
    """A run's letter for the test: no failure row means it passed (or did not run)."""
    if outcome is None:
        return "P"
    return "K" if outcome == FLAKY else "F"


class PagesUnitOfWork(SqlUnitOfWork):
    """Every repository of the store, plus the page queries, in one read transaction."""

    pages: SqlPageReads

    def bind(self, session: Session) -> None:
        super().bind(session)
        self.pages = SqlPageReads(session)


def pages_uow(engine: Engine) -> PagesUnitOfWork:
    """Return a read-only unit of work for the dashboard's pages."""
    return PagesUnitOfWork(engine, write=False)
