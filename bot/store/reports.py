"""Weekly report claims and the aggregate read queries of the objective, report and dashboard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Engine, distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.criteria import FailureGroup, WeekFacts
from bot.core.model import Category
from bot.core.objective import ObjectiveInputs, Regression, window_start_time
from bot.core.weekly import ClusterLine, FlakyLine, IsoWeek
from bot.ports.reports import ReportRepository, ReportsUowFactory, RunLine, TaskCheckRepository
from bot.store import tables
from bot.store.common import utc
from bot.store.outbox_repository import OutboxRepository
from bot.store.tables import WeeklyReportClaim
from bot.store.task_checks import SqlTaskChecks
from bot.store.uow import OutboxFactory, SessionUnitOfWork

_R = tables.Run.__table__.c  # type: ignore[attr-defined]
_F = tables.FailureRow.__table__.c  # type: ignore[attr-defined]
_T = tables.SuiteTest.__table__.c  # type: ignore[attr-defined]
_C = tables.Cluster.__table__.c  # type: ignore[attr-defined]
_K = tables.KnownIssueState.__table__.c  # type: ignore[attr-defined]
_IT = tables.IssueTally.__table__.c  # type: ignore[attr-defined]
_RT = tables.RunTally.__table__.c  # type: ignore[attr-defined]
_RR = tables.RunRegressionRow.__table__.c  # type: ignore[attr-defined]
_IS = tables.IssueTotal.__table__.c  # type: ignore[attr-defined]
REGRESSION = ("new", "recurred")
INFRA = "infrastructure"
PASSING = ("passed", "flaky", "xpassed")
FAILING = ("failed", "error")


def _group(row: Any) -> FailureGroup:
    nodeid, phase, exception, classification, category, issue, message, count = row
    return FailureGroup(
        nodeid, phase, exception, message or "", classification, category, issue, int(count)
    )


class SqlReportRepository:
    """ReportRepository over one session; every query aggregates in the database."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._envs: dict[str, list[str]] = {}

    def _environments(self, suite: str) -> list[str]:
        # Naming every environment lets (suite, environment, started_at) indexes seek on time.
        if suite not in self._envs:
            rows = self.session.execute(select(_R.environment).where(_R.suite == suite).distinct())
            self._envs[suite] = [r[0] for r in rows]
        return self._envs[suite]

    def _failures_of(self, suite: str, start: datetime, end: datetime) -> list[Any]:
        return [
            _F.suite == suite,
            _F.environment.in_(self._environments(suite)),
            _F.started_at >= start,
            _F.started_at < end,
        ]

    def suites(self) -> list[str]:
        """List every suite that has reported, by name."""
        return [r[0] for r in self.session.execute(select(_R.suite).distinct().order_by(_R.suite))]

    def first_run_at(self, *, suite: str) -> datetime | None:
        """Return when the suite's first stored run started."""
        first = self.session.execute(
            select(func.min(_R.started_at)).where(_R.suite == suite)
        ).scalar_one()
        return utc(first) if first is not None else None

    def objective_inputs(
        self,
        *,
        suite: str,
        at: datetime,
        days: int,
        min_coverage: float,
        tz: tzinfo,
        latest: int | None = None,
    ) -> ObjectiveInputs | None:
        """Gather run days in the window and each run's first infrastructure regression."""
        first = self.session.execute(select(func.min(_R.started_at)).where(_R.suite == suite))
        first_at = first.scalar()
        if first_at is None:
            return None
        start = window_start_time(at, days, tz)
        envs = self._environments(suite)
        times = self.session.execute(
            select(_R.started_at).where(
                _R.suite == suite,
                _R.environment.in_(envs),
                _R.started_at >= start,
                _R.started_at <= at,
            )
        )
        # Each run's first regression stands for the run: a streak resets once per run, on
        # the regression that sorts first, so the others never change the objective.
        mine = [_RR.suite == suite, _RR.started_at <= at]
        if latest is not None:
            cutoff = self.session.execute(
                select(_RR.started_at)
                .where(*mine)
                .group_by(_RR.started_at)
                .order_by(_RR.started_at.desc())
                .offset(latest)
                .limit(1)
            ).scalar()
            if cutoff is not None:
                mine.append(_RR.started_at >= cutoff)
        regs = self.session.execute(
            select(_RR.started_at, _RR.nodeid, _RR.classification, _RR.exception, _RR.message)
            .where(*mine)
            .order_by(_RR.started_at)
        )
        return ObjectiveInputs(
            suite=suite,
            at=at,
            days=days,
            min_coverage=min_coverage,
            first_run_at=utc(first_at),
            run_times=[utc(r[0]) for r in times],
            regressions=[Regression(utc(r[0]), r[1], r[2], r[3], r[4] or "") for r in regs],
            tz=tz,
        )

    def _runs_per_day(self, suite: str, start: datetime, end: datetime, tz: tzinfo) -> Any:
        rows = self.session.execute(
            select(_R.started_at, _R.counts).where(
                _R.suite == suite,
                _R.environment.in_(self._environments(suite)),
                _R.started_at >= start,
                _R.started_at < end,
            )
        )
        return [(utc(t).astimezone(tz).date(), counts) for t, counts in rows]

    def _known_counts(self, suite: str, start: datetime, end: datetime) -> dict[int, int]:
        rows = self.session.execute(
            select(_F.known_issue, func.count())
            .where(*self._failures_of(suite, start, end), _F.known_issue.is_not(None))
            .group_by(_F.known_issue)
        )
        return {int(issue): int(n) for issue, n in rows}

    def week_facts(self, *, suite: str, week: IsoWeek, tz: tzinfo, now: datetime) -> WeekFacts:
        """Gather runs per day, grouped failures, the suite's tests and known-issue counts."""
        start, end = week.bounds(tz)
        per_day: dict[date, int] = defaultdict(int)
        for day, _ in self._runs_per_day(suite, start, end, tz):
            per_day[day] += 1
        where = self._failures_of(suite, start, end)
        keys = (_F.nodeid, _F.phase, _F.exception, _F.classification, _F.category, _F.known_issue)
        groups = self.session.execute(
            select(*keys, func.max(_F.message), func.count())
            .where(*where)
            .group_by(*keys, _F.fingerprint)
            .order_by(func.count().desc(), _F.nodeid)
        )
        failed = self.session.execute(
            select(_F.nodeid, func.count(distinct(_F.run_id))).where(*where).group_by(_F.nodeid)
        )
        tests = self.session.execute(select(_T.nodeid).where(_T.suite == suite))
        prev_start, prev_end = week.previous().bounds(tz)
        return WeekFacts(
            suite=suite,
            first_day=week.monday,
            last_day=min(week.monday + timedelta(days=6), now.astimezone(tz).date()),
            runs_per_day=dict(per_day),
            failures=[_group(g) for g in groups],
            failed_runs_by_nodeid={n: int(c) for n, c in failed},
            tests=[r[0] for r in tests],
            known_this_week=self._known_counts(suite, start, end),
            known_last_week=self._known_counts(suite, prev_start, prev_end),
            objective=None,
        )

    def daily_pass_rate(
        self, *, suite: str, start: datetime, end: datetime, tz: tzinfo
    ) -> list[tuple[date, float | None]]:
        """Compute each day's share of passing tests from the runs' outcome counts."""
        passed: dict[date, int] = defaultdict(int)
        judged: dict[date, int] = defaultdict(int)
        for day, counts in self._runs_per_day(suite, start, end, tz):
            ok = sum(int(counts.get(k, 0)) for k in PASSING)
            passed[day] += ok
            judged[day] += ok + sum(int(counts.get(k, 0)) for k in FAILING)
        first, last = start.astimezone(tz).date(), (end - timedelta(seconds=1)).astimezone(tz)
        days = [first + timedelta(days=i) for i in range((last.date() - first).days + 1)]
        return [(d, passed[d] / judged[d] if judged[d] else None) for d in days]

    def _clusters(self, *conditions: Any, limit: int) -> list[ClusterLine]:
        rows = self.session.execute(
            select(_C.fingerprint, _C.count, _C.exception, _C.example_nodeid, _C.example_message)
            .where(*conditions)
            .order_by(_C.count.desc(), _C.fingerprint)
            .limit(limit)
        )
        return [ClusterLine(r[0], int(r[1]), r[2], r[3], r[4] or "") for r in rows]

    def new_clusters(
        self, *, suite: str, start: datetime, end: datetime, limit: int
    ) -> list[ClusterLine]:
        """List clusters first seen in [start, end), the largest first."""
        cond = (_C.suite == suite, _C.first_seen >= start, _C.first_seen < end)
        return self._clusters(*cond, limit=limit)

    def top_clusters(self, *, suite: str, limit: int) -> list[ClusterLine]:
        """List the suite's largest clusters of unmatched failures."""
        return self._clusters(_C.suite == suite, limit=limit)

    def flaky_tests(
        self, *, suite: str, start: datetime, end: datetime, limit: int
    ) -> list[FlakyLine]:
        """List the tests with the most flaky failures in [start, end)."""
        n = func.count().label("n")
        rows = self.session.execute(
            select(_F.nodeid, n)
            .where(
                *self._failures_of(suite, start, end),
                # Every category named: the (suite, category, classification, started_at) index
                # then seeks to the window's flaky failures instead of reading all of them.
                _F.category.in_([c.value for c in Category]),
                _F.classification == "flaky",
            )
            .group_by(_F.nodeid)
            .order_by(n.desc(), _F.nodeid)
            .limit(limit)
        )
        return [FlakyLine(r[0], int(r[1])) for r in rows]

    def known_issue_daily(
        self, *, suite: str, start: datetime, tz: tzinfo
    ) -> dict[int, dict[date, int]]:
        """Count each known issue's occurrences per day since `start`."""
        # The window's runs, then their per-run tallies: a row per run and issue, not per failure.
        # The ids are sent as a list: a sub-select let PostgreSQL hash-join all the tallies.
        runs = self.session.scalars(
            select(_R.id).where(
                _R.suite == suite,
                _R.environment.in_(self._environments(suite)),
                _R.started_at >= start,
            )
        ).all()
        # Summed here, not grouped in SQL: a GROUP BY let SQLite, with a year's statistics,
        # walk a whole index in group order instead of seeking the window's runs.
        rows = self.session.execute(
            select(_IT.started_at, _IT.known_issue, _IT.failures + _IT.flaky).where(
                _IT.run_id.in_(runs)
            )
        )
        out: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for at, issue, n in rows:
            out[int(issue)][utc(at).astimezone(tz).date()] += int(n)
        return {k: dict(v) for k, v in out.items()}

    def recent_runs(self, *, suite: str, until: datetime, limit: int) -> list[RunLine]:
        """List the suite's latest runs up to `until` with their failures per classification."""
        envs = self._environments(suite)
        runs = list(
            self.session.execute(
                select(_R.id, _R.suite, _R.started_at, _R.tests, _R.counts)
                .where(_R.suite == suite, _R.environment.in_(envs), _R.started_at <= until)
                .order_by(_R.started_at.desc(), _R.id.desc())
                .limit(limit)
            )
        )
        per_run: dict[int, dict[str, int]] = defaultdict(dict)
        rows = self.session.execute(
            select(_RT.run_id, _RT.classification, func.sum(_RT.failures + _RT.flaky))
            .where(_RT.run_id.in_([r[0] for r in runs]))
            .group_by(_RT.run_id, _RT.classification)
        )
        for run_id, classification, n in rows:
            per_run[run_id][classification] = int(n)
        return [
            RunLine(r[0], r[1], utc(r[2]), int(r[3]), dict(r[4]), per_run.get(r[0], {}))
            for r in runs
        ]

    def issue_titles(self) -> dict[int, str]:
        """Map known issues to their GitHub titles, as last told by webhooks."""
        return {int(n): t for n, t in self.session.execute(select(_K.number, _K.title))}

    def claim_week(self, *, suite: str, week: str, now: datetime) -> bool:
        """Insert the claim row inside a savepoint; False when another process holds it."""
        try:
            with self.session.begin_nested():
                self.session.add(WeeklyReportClaim(suite=suite, iso_week=week, claimed_at=now))
        except IntegrityError:
            return False
        return True

    def claimed_weeks(self, *, suite: str) -> set[str]:
        """List the weeks already claimed for the suite."""
        c = WeeklyReportClaim.__table__.c  # type: ignore[attr-defined]
        return {r[0] for r in self.session.execute(select(c.iso_week).where(c.suite == suite))}


class SqlReportsUnitOfWork(SessionUnitOfWork):
    """A session holding the report repository and the outbox in one transaction."""

    reports: ReportRepository
    tasks: TaskCheckRepository

    def __init__(
        self, engine: Engine, *, write: bool = False, outbox: OutboxFactory | None = None
    ) -> None:
        super().__init__(engine, write=write, outbox=outbox)

    def bind(self, session: Session) -> None:
        """Build the report repository on the session."""
        self.reports = SqlReportRepository(session)
        self.tasks = SqlTaskChecks(session)


def uow_factory(engine: Engine, *, outbox: OutboxFactory | None = None) -> ReportsUowFactory:
    """Return a factory of report units of work on `engine`."""

    def make(*, write: bool = False) -> SqlReportsUnitOfWork:
        return SqlReportsUnitOfWork(engine, write=write, outbox=outbox)

    return make


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Counters for /metrics, each one aggregate query."""

    runs_by_suite: dict[str, int]
    failures_by_class: dict[tuple[str, str], int]  # (suite, classification)
    known_issue_occurrences: dict[int, int]
    outbox_by_state: dict[str, int]


def metrics_snapshot(session: Session) -> MetricsSnapshot:
    """Count runs, failures per classification, known-issue matches and outbox rows."""
    runs = session.execute(select(_R.suite, func.count()).group_by(_R.suite))
    # From the per-run tallies and the issue totals the triggers keep: a scrape reads a few
    # rows per run and one per issue, never the failures themselves.
    failures = session.execute(
        select(_R.suite, _RT.classification, func.sum(_RT.failures + _RT.flaky))
        .select_from(_RT.run_id.table.join(_R.id.table, _R.id == _RT.run_id))
        .group_by(_R.suite, _RT.classification)
    )
    known = session.execute(select(_IS.known_issue, _IS.occurrences))
    stats = OutboxRepository(session).stats(dead_limit=0)
    return MetricsSnapshot(
        runs_by_suite={s: int(n) for s, n in runs},
        failures_by_class={(s, c): int(n) for s, c, n in failures},
        known_issue_occurrences={int(i): int(n) for i, n in known},
        outbox_by_state={
            "pending": stats.pending,
            "sent": stats.sent,
            "dead": stats.dead,
            "superseded": stats.superseded,
        },
    )
