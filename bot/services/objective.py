"""Objective and dashboard use cases: gather read models through the port, compute in core."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.core.errors import TriageError
from bot.core.objective import Objective, compute
from bot.core.weekly import ClusterLine, FlakyLine
from bot.ports.reports import ReportRepository, ReportsUowFactory, RunLine

UowFactory = ReportsUowFactory
DASHBOARD_RESETS = 10  # the streak resets the dashboard lists


class UnknownSuiteError(TriageError):
    """No run of this suite was ever ingested."""


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """The objective's window and the weekly report's time zone, schedule and target."""

    timezone: str = "UTC"
    objective_days: int = 30
    objective_min_coverage: float = 0.9
    report_issue: int = 623  # the tracking issue the weekly report is a comment on
    report_as_new_issue: bool = False
    # A week's report is due this long after the week ends (the report day and hour).
    due_after: timedelta = timedelta(hours=9)


def report_tz(config: ReportConfig) -> tzinfo:
    """Return the configured report time zone; a bad name is a configuration error."""
    try:
        return ZoneInfo(config.timezone)
    except (ValueError, KeyError) as exc:
        raise TriageError("bad_timezone", f"unknown time zone {config.timezone!r}") from exc


def objective_of(
    reports: ReportRepository,
    *,
    suite: str,
    at: datetime,
    config: ReportConfig,
    resets: int | None = None,
) -> Objective:
    """Compute one suite's objective at `at`; raise UnknownSuiteError for an unknown suite.

    With `resets`, the objective keeps only the newest `resets` streak resets and reads only
    the regressions they need, so its cost does not grow with the suite's history; every
    other figure is the same as with all of them.
    """
    inputs = reports.objective_inputs(
        suite=suite,
        at=at,
        days=config.objective_days,
        min_coverage=config.objective_min_coverage,
        tz=report_tz(config),
        latest=resets,
    )
    if inputs is None:
        raise UnknownSuiteError("unknown_suite", f"no run of suite {suite!r} was ever ingested")
    found = compute(inputs)
    if resets is None:
        return found
    # The oldest reset read may lack the one before it (its streak would be wrong): drop it.
    return replace(found, resets=found.resets[max(len(found.resets) - resets, 0) :])


def objective(
    uow: UowFactory,
    *,
    suite: str,
    at: datetime,
    config: ReportConfig,
    resets: int | None = None,
) -> Objective:
    """Compute one suite's objective in its own read transaction (see objective_of)."""
    with uow() as tx:
        return objective_of(tx.reports, suite=suite, at=at, config=config, resets=resets)


@dataclass(frozen=True, slots=True)
class SuiteView:
    """What the dashboard shows of one suite."""

    objective: Objective
    days: list[date]
    known_issues: dict[int, list[int]]  # per issue, occurrences per day of `days`
    issue_titles: dict[int, str]
    pass_rate: list[tuple[date, float | None]]
    runs: list[RunLine]
    clusters: list[ClusterLine]
    flaky: list[FlakyLine]


@dataclass(frozen=True, slots=True)
class DashboardView:
    suites: list[str]
    objectives: list[Objective]
    selected: SuiteView | None


def _suite_view(
    reports: ReportRepository, *, obj: Objective, now: datetime, config: ReportConfig
) -> SuiteView:
    tz = report_tz(config)
    suite = obj.suite
    start = datetime.combine(obj.window_start, datetime.min.time(), tzinfo=tz)
    days = [obj.window_start + timedelta(days=i) for i in range(obj.days)]
    daily = reports.known_issue_daily(suite=suite, start=start, tz=tz)
    top = sorted(daily, key=lambda i: -sum(daily[i].values()))[:7]
    return SuiteView(
        objective=obj,
        days=days,
        known_issues={i: [daily[i].get(d, 0) for d in days] for i in top},
        issue_titles=reports.issue_titles(),
        pass_rate=reports.daily_pass_rate(suite=suite, start=start, end=now, tz=tz),
        runs=reports.recent_runs(suite=suite, until=now, limit=15),
        clusters=reports.top_clusters(suite=suite, limit=10),
        flaky=reports.flaky_tests(suite=suite, start=start, end=now, limit=10),
    )


def dashboard(
    uow: UowFactory, *, suite: str | None, now: datetime, config: ReportConfig
) -> DashboardView:
    """Gather every suite's objective and the details of the selected (or first) suite."""
    with uow() as tx:
        suites = tx.reports.suites()
        objectives = [
            objective_of(tx.reports, suite=s, at=now, config=config, resets=DASHBOARD_RESETS)
            for s in suites
        ]
        chosen = suite if suite is not None else (suites[0] if suites else None)
        if chosen is not None and chosen not in suites:
            raise UnknownSuiteError(
                "unknown_suite", f"no run of suite {chosen!r} was ever ingested"
            )
        view = None
        if chosen is not None:
            obj = objectives[suites.index(chosen)]
            view = _suite_view(tx.reports, obj=obj, now=now, config=config)
        return DashboardView(suites, objectives, view)
