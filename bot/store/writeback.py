"""Read what the comment policy needs from stored runs, failures, issue states and the outbox."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from fnmatch import fnmatchcase

from sqlalchemy import distinct, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.clusters import ClusterSummary, describe
from bot.core.render_comments import IssueActivity, RunRef
from bot.ports.store import WritebackHistory
from bot.store.common import maybe_utc, utc
from bot.store.outbox_repository import DEAD
from bot.store.tables import (
    Cluster,
    FailureRow,
    IssueTally,
    IssueTotal,
    KnownIssueState,
    ManualLink,
    OutboxRow,
    Run,
)

WINDOW_DAYS = 30
EXCERPT_READ = 1000  # the excerpt shown is shorter still
SPIKE_DAYS = 15  # the spike window and a day of margin
FLAKY = "flaky"  # flaky passes are stored beside failures; they are not occurrences


class SqlWritebackHistory:
    """The WritebackHistory port over the store's tables, inside the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def issue_activity(
        self, *, issues: Collection[int], now: datetime, run_id: int | None = None, latest: int = 10
    ) -> list[IssueActivity]:
        """Summarise each issue's occurrences; previous_seen excludes run `run_id`."""
        found = (self._activity(n, now=now, run_id=run_id, latest=latest) for n in sorted(issues))
        return [a for a in found if a is not None]

    def open_issue_activity(self, *, now: datetime, latest: int = 5) -> list[IssueActivity]:
        """Summarise every known issue with occurrences that is not closed."""
        # issue_totals holds a row per issue with any tally, read by its key: one with only
        # flaky passes summarises to nothing below, as it did when filtered here.
        numbers = self.session.exec(select(IssueTotal.known_issue)).all()
        found = self.issue_activity(issues=list(numbers), now=now, latest=latest)
        return [a for a in found if a.state != "closed"]

    def cluster_candidates(self, *, min_runs: int) -> list[ClusterSummary]:
        """List clusters seen in min_runs runs or more whose fingerprint was never filed."""
        filed = set(
            self.session.exec(
                select(OutboxRow.key).where(
                    col(OutboxRow.key).startswith("fingerprint:"), OutboxRow.state != DEAD
                )
            ).all()
        )
        clusters = self.session.exec(select(Cluster).where(Cluster.runs >= min_runs)).all()
        clusters = [c for c in clusters if not self._covered_or_flaky(c)]
        return [
            ClusterSummary(
                fingerprint=c.fingerprint,
                suite=c.suite,
                runs=c.runs,
                count=c.count,
                exception=c.exception,
                example_nodeid=c.example_nodeid,
                example_message=c.example_message,
                suggested_rule=c.suggested_rule,
                first_seen=utc(c.first_seen),
                last_seen=utc(c.last_seen),
            )
            for c in clusters
            if f"fingerprint:{c.fingerprint}" not in filed
        ]

    def _covered_or_flaky(self, cluster: Cluster) -> bool:
        """Tell whether a cluster must not be filed: a rule or link covers it, or it is flaky."""
        fp = cluster.fingerprint
        covered = self.session.exec(
            select(func.count()).where(
                FailureRow.fingerprint == fp, col(FailureRow.known_issue).is_not(None)
            )
        ).one()
        links = self.session.exec(select(ManualLink.kind, ManualLink.pattern)).all()
        nodeids = set(
            self.session.exec(
                select(FailureRow.nodeid).where(FailureRow.fingerprint == fp).distinct()
            ).all()
        ) | {cluster.example_nodeid}
        linked = any(
            (kind == "fingerprint" and pattern == fp)
            or (kind != "fingerprint" and any(fnmatchcase(n, pattern) for n in nodeids))
            for kind, pattern in links
        )
        return bool(covered) or linked or self._any_flaky(nodeids)

    def _any_flaky(self, nodeids: Collection[str]) -> bool:
        flaky_rows = self.session.exec(
            select(func.count()).where(
                col(FailureRow.nodeid).in_(nodeids),
                or_(col(FailureRow.outcome) == FLAKY, col(FailureRow.classification) == FLAKY),
            )
        ).one()
        return bool(flaky_rows)

    def _activity(
        self, issue: int, *, now: datetime, run_id: int | None, latest: int
    ) -> IssueActivity | None:
        # The per-run tallies hold a few rows per run, where failures hold every occurrence:
        # an upload's cost does not grow with the issue's history of failures.
        mine = (IssueTally.known_issue == issue, IssueTally.failures > 0)
        total, runs = self.session.exec(
            select(
                func.sum(IssueTally.failures), func.count(distinct(col(IssueTally.run_id)))
            ).where(*mine)
        ).one()
        if not total:
            return None
        # First, last and previous seen are seeks at either end of the (issue, time) index.
        first = self._seen(issue, ascending=True)
        last = self._seen(issue, ascending=False)
        if first is None or last is None:
            return None
        # Everything is judged at the planned run's own start, not at the wall clock.
        run = self.session.get(Run, run_id) if run_id is not None else None
        at = utc(run.started_at) if run is not None else now
        others = (*mine, IssueTally.run_id != (run_id or -1))
        previous = self.session.exec(
            select(func.max(IssueTally.started_at)).where(*others, IssueTally.started_at <= at)
        ).one()
        later = self.session.exec(
            select(func.max(IssueTally.started_at)).where(*others, IssueTally.started_at > at)
        ).one()
        since = min(at, now) - timedelta(days=WINDOW_DAYS)
        daily: Counter[date] = Counter()
        for moment, count in self.session.exec(
            select(IssueTally.started_at, IssueTally.failures).where(
                *mine, IssueTally.started_at >= since
            )
        ):
            daily[utc(moment).date()] += count
        state = self.session.get(KnownIssueState, issue)
        return IssueActivity(
            issue=issue,
            state=state.state if state is not None else "unknown",
            occurrences=int(total),
            runs=int(runs),
            first_seen=utc(first),
            last_seen=utc(last),
            previous_seen=maybe_utc(previous),
            daily=tuple(sorted(daily.items())),
            latest_runs=self._latest_runs(issue, latest),
            events_today=self._events_on(issue, at.date()),
            state_since=utc(state.updated_at) if state is not None else None,
            later_seen=maybe_utc(later),
            run_days=self._run_days(run, at) if run is not None else (),
            suite_last_run=self._suite_last_run(issue),
            at=at if run is not None else None,
        )

    def _seen(self, issue: int, *, ascending: bool) -> datetime | None:
        """First or last occurrence: a seek at either end of the tallies' (issue, time) index."""
        order = col(IssueTally.started_at)
        query = select(IssueTally.started_at).where(
            IssueTally.known_issue == issue, IssueTally.failures > 0
        )
        return self.session.exec(
            query.order_by(order.asc() if ascending else order.desc()).limit(1)
        ).first()

    def _run_days(self, run: Run, at: datetime) -> tuple[date, ...]:
        """Days the run's suite ran in the spike window before the run's day."""
        start = datetime.combine(at.date(), time(), tzinfo=UTC) - timedelta(days=SPIKE_DAYS)
        moments = self.session.exec(
            select(Run.started_at).where(
                Run.suite == run.suite,
                Run.environment == run.environment,
                Run.started_at >= start,
                Run.started_at < at,
            )
        ).all()
        return tuple(sorted({utc(m).date() for m in moments} - {at.date()}))

    def _suite_last_run(self, issue: int) -> datetime | None:
        # The issue's suites come from its tallies (a row per run it was seen in, kept for
        # every failure matched to it) joined to their runs, never from its every failure.
        seen_in = sa_select(col(IssueTally.run_id)).where(col(IssueTally.known_issue) == issue)
        suites = (
            sa_select(col(Run.suite)).where(col(Run.id).in_(seen_in)).distinct()
        ).scalar_subquery()
        newest = self.session.exec(
            select(func.max(Run.started_at)).where(col(Run.suite).in_(suites))
        ).one()
        return maybe_utc(newest)

    def _latest_runs(self, issue: int, latest: int) -> tuple[RunRef, ...]:
        # Newest first along the (issue, time) index, stopping at `latest` distinct runs.
        newest = (
            select(IssueTally.run_id)
            .where(IssueTally.known_issue == issue, IssueTally.failures > 0)
            .order_by(col(IssueTally.started_at).desc(), col(IssueTally.run_id).desc())
            .execution_options(yield_per=64)
        )
        run_ids: list[int] = []
        newest_rows = self.session.exec(newest)
        try:
            for rid in newest_rows:
                if rid not in run_ids:
                    run_ids.append(rid)
                    if len(run_ids) == latest:
                        break
        finally:
            newest_rows.close()  # a server-side cursor on PostgreSQL: let it go now
        tests: defaultdict[int, dict[str, None]] = defaultdict(dict)  # ordered, no repeats
        why: dict[int, tuple[str, str | None, str]] = {}
        # Sorted here, not by ORDER BY id: that let SQLite walk the whole table in id order
        # rather than seek these few runs by the (run, node) index and sort their rows.
        rows = self.session.execute(
            sa_select(
                col(FailureRow.id),
                col(FailureRow.run_id),
                col(FailureRow.nodeid),
                col(FailureRow.exception),
                col(FailureRow.message),
                col(FailureRow.rule),
                col(FailureRow.classification),
            ).where(
                # `+ 0` keeps the planner off the (issue, time) index, which would walk the
                # issue's every failure: the (run, node) index reads only these few runs.
                col(FailureRow.known_issue) + 0 == issue,
                col(FailureRow.outcome) != FLAKY,
                col(FailureRow.run_id).in_(run_ids),
            )
        ).all()
        for _id, rid, nodeid, exception, message, rule, classification in sorted(rows):
            tests[rid].setdefault(nodeid)
            # The run's first failure speaks for it; messages are stored capped.
            why.setdefault(rid, (describe(exception, message[:EXCERPT_READ]), rule, classification))
        found = {r.id: r for r in self.session.exec(select(Run).where(col(Run.id).in_(run_ids)))}
        return tuple(
            RunRef(
                run_id=rid,
                started_at=utc(found[rid].started_at),
                url=found[rid].ci_url,
                branch=found[rid].branch,
                commit=found[rid].commit,
                failing_tests=tuple(tests[rid]),
                excerpt=why[rid][0] if rid in why else "",
                rule=why[rid][1] if rid in why else None,
                classification=why[rid][2] if rid in why else "",
            )
            for rid in run_ids
            if rid in found
        )

    def _events_on(self, issue: int, day: date) -> int:
        """Count event comments planned for runs of `day` (the key names the run's day)."""
        found = self.session.exec(
            select(func.count()).where(
                OutboxRow.target == f"issue:{issue}",
                col(OutboxRow.key).startswith(f"event:{issue}:{day.isoformat()}:"),
                OutboxRow.state != DEAD,
            )
        ).one()
        return int(found)


_PORT_CHECK: type[WritebackHistory] = SqlWritebackHistory  # mypy checks it against the port
