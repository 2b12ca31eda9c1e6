"""Report ports: read models of the objective, the weekly report and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Protocol, Self

from bot.core.criteria import WeekFacts
from bot.core.objective import ObjectiveInputs
from bot.core.tasklist import TaskCheck
from bot.core.weekly import ClusterLine, FlakyLine, IsoWeek
from bot.ports.outbox import Outbox


@dataclass(frozen=True, slots=True)
class RunLine:
    """One recent run and its failures per classification."""

    id: int
    suite: str
    started_at: datetime
    tests: int
    counts: dict[str, int]
    classifications: dict[str, int]


class ReportRepository(Protocol):
    """Read models of the objective, the weekly report and the dashboard, plus week claims."""

    def first_run_at(self, *, suite: str) -> datetime | None: ...

    def suites(self) -> list[str]: ...

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
        """Gather the objective's inputs; None when the suite has never reported.

        With `latest`, only the regressions of the latest `latest` + 1 regressing run times:
        enough for the streak, the window and the newest `latest` resets.
        """
        ...

    def week_facts(self, *, suite: str, week: IsoWeek, tz: tzinfo, now: datetime) -> WeekFacts:
        """Gather one ISO week of one suite (objective left None for the caller)."""
        ...

    def daily_pass_rate(
        self, *, suite: str, start: datetime, end: datetime, tz: tzinfo
    ) -> list[tuple[date, float | None]]: ...

    def new_clusters(
        self, *, suite: str, start: datetime, end: datetime, limit: int
    ) -> list[ClusterLine]: ...

    def top_clusters(self, *, suite: str, limit: int) -> list[ClusterLine]: ...

    def flaky_tests(
        self, *, suite: str, start: datetime, end: datetime, limit: int
    ) -> list[FlakyLine]: ...

    def known_issue_daily(
        self, *, suite: str, start: datetime, tz: tzinfo
    ) -> dict[int, dict[date, int]]: ...

    def recent_runs(self, *, suite: str, until: datetime, limit: int) -> list[RunLine]: ...

    def issue_titles(self) -> dict[int, str]: ...

    def claim_week(self, *, suite: str, week: str, now: datetime) -> bool:
        """Claim the week's report for this process; False when someone already did."""
        ...

    def claimed_weeks(self, *, suite: str) -> set[str]: ...


class ReportsUnitOfWork(Protocol):
    """One transaction over the report read models and the outbox."""

    reports: ReportRepository
    outbox: Outbox
    tasks: TaskCheckRepository

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None:
        """Roll back whatever was not committed."""
        ...

    def commit(self) -> None: ...


class ReportsUowFactory(Protocol):
    """Make a report unit of work; write=True for one that claims weeks and enqueues."""

    def __call__(self, *, write: bool = False) -> ReportsUnitOfWork: ...


# --- task criteria: checks on the tracking issue's task list


class TaskCheckRepository(Protocol):
    """The task criteria's checked states, appended in the unit of work's transaction."""

    def add(self, *, checks: Sequence[TaskCheck]) -> None: ...

    def history(self) -> list[TaskCheck]:
        """Every stored check, oldest first."""
        ...

    def latest(self) -> dict[str, bool]:
        """Each criterion's latest state (criteria never seen are absent)."""
        ...


class TaskUnitOfWork(Protocol):
    """A transaction holding the task checks."""

    @property
    def tasks(self) -> TaskCheckRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...
