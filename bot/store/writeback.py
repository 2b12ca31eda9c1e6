"""Read what the comment policy needs from stored runs, failures, issue states and the outbox."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import distinct, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.comment_policy import ClusterCandidate
from bot.core.render_comments import IssueActivity, RunRef
from bot.ports import WritebackHistory
from bot.store.common import maybe_utc, utc
from bot.store.outbox import DEAD, OutboxRow
from bot.store.tables import Cluster, FailureRow, IssueTally, KnownIssueState, Run

WINDOW_DAYS = 30
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
        numbers = self.session.exec(
            select(IssueTally.known_issue).distinct().where(IssueTally.failures > 0)
        ).all()
        found = self.issue_activity(issues=list(numbers), now=now, latest=latest)
        return [a for a in found if a.state != "closed"]

    def cluster_candidates(self, *, min_runs: int) -> list[ClusterCandidate]:
        """List clusters seen in min_runs runs or more whose fingerprint was never filed."""
        filed = set(
            self.session.exec(
                select(OutboxRow.key).where(
                    col(OutboxRow.key).startswith("fingerprint:"), OutboxRow.state != DEAD
                )
            ).all()
        )
        clusters = self.session.exec(select(Cluster).where(Cluster.runs >= min_runs)).all()
        return [
            ClusterCandidate(
                fingerprint=c.fingerprint,
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
        previous = self._seen(issue, ascending=False, other_than=run_id)
        if first is None or last is None:
            return None
        since = now - timedelta(days=WINDOW_DAYS)
        daily: Counter[date] = Counter()
        for at, count in self.session.exec(
            select(IssueTally.started_at, IssueTally.failures).where(
                *mine, IssueTally.started_at >= since
            )
        ):
            daily[utc(at).date()] += count
        state = self.session.get(KnownIssueState, issue)
        events = self._events(issue, now)
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
            events_today=sum(1 for at in events if at.date() == now.date()),
            last_event_at=max(events, default=None),
            state_since=utc(state.updated_at) if state is not None else None,
        )

    def _seen(
        self, issue: int, *, ascending: bool, other_than: int | None = None
    ) -> datetime | None:
        order = col(IssueTally.started_at)
        query = select(IssueTally.started_at).where(
            IssueTally.known_issue == issue, IssueTally.failures > 0
        )
        if other_than is not None:
            query = query.where(IssueTally.run_id != other_than)
        return self.session.exec(
            query.order_by(order.asc() if ascending else order.desc()).limit(1)
        ).first()

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
        tests: defaultdict[int, list[str]] = defaultdict(list)
        # By run id only, sorted here: an ORDER BY id can lead SQLite's planner, once the table
        # is big, to walk the primary key (the whole table) instead of the run_id index.
        rows = self.session.execute(
            sa_select(
                col(FailureRow.id),
                col(FailureRow.run_id),
                col(FailureRow.nodeid),
                col(FailureRow.known_issue),
                col(FailureRow.outcome),
            ).where(col(FailureRow.run_id).in_(run_ids))
        ).all()
        for _id, rid, nodeid, known, outcome in sorted(rows, key=lambda r: r[0] or 0):
            if known == issue and outcome != FLAKY and nodeid not in tests[rid]:
                tests[rid].append(nodeid)
        found = {r.id: r for r in self.session.exec(select(Run).where(col(Run.id).in_(run_ids)))}
        return tuple(
            RunRef(
                run_id=rid,
                started_at=utc(found[rid].started_at),
                url=found[rid].ci_url,
                branch=found[rid].branch,
                commit=found[rid].commit,
                failing_tests=tuple(tests[rid]),
            )
            for rid in run_ids
            if rid in found
        )

    def _events(self, issue: int, now: datetime) -> list[datetime]:
        since = now - timedelta(days=WINDOW_DAYS)
        found = self.session.exec(
            select(OutboxRow.created_at).where(
                OutboxRow.target == f"issue:{issue}",
                col(OutboxRow.key).startswith(f"event:{issue}:"),
                OutboxRow.state != DEAD,
                OutboxRow.created_at >= since,
            )
        ).all()
        return [utc(at) for at in found]


_PORT_CHECK: type[WritebackHistory] = SqlWritebackHistory  # mypy checks it against the port
