"""The 30-day no-regression objective: streak, resets, clean window and data coverage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.core.clusters import describe
from bot.core.errors import TriageError

DAY = timedelta(days=1)


class ObjectiveError(TriageError):
    """The objective cannot be computed from the inputs given."""


@dataclass(frozen=True, slots=True)
class Regression:
    """One infrastructure regression: a new or recurred infrastructure failure."""

    at: datetime
    nodeid: str
    classification: str
    exception: str | None
    message: str

    @property
    def reason(self) -> str:
        """Say why it counts: its classification and its exception and message."""
        what = describe(self.exception, self.message)  # never "Error: Error: ..."
        return f"{self.classification}: {what}" if what else self.classification


@dataclass(frozen=True, slots=True)
class Reset:
    """An infrastructure regression that ended a streak."""

    at: datetime
    nodeid: str
    reason: str
    streak_before_days: int


@dataclass(frozen=True, slots=True)
class ObjectiveInputs:
    """What the objective is computed from, gathered by the service."""

    suite: str
    at: datetime
    days: int
    min_coverage: float
    first_run_at: datetime | None
    run_times: Sequence[datetime]  # runs in the window (others are ignored)
    regressions: Sequence[Regression]  # every infrastructure regression up to `at`
    tz: tzinfo


@dataclass(frozen=True, slots=True)
class Objective:
    """The objective of one suite at one instant."""

    suite: str
    at: datetime
    days: int
    streak_days: int
    last_regression: Regression | None
    window_start: date
    window_end: date
    window_clean: bool
    days_with_runs: int
    coverage: float
    met: bool
    resets: tuple[Reset, ...]
    # The window's days before the suite's first run: never judged, and said so.
    days_before_first_run: int = 0

    @property
    def progress(self) -> str:
        """Say how far the streak is towards the target, e.g. "15/30 days"."""
        return f"{min(self.streak_days, self.days)}/{self.days} days"


def window(at: datetime, days: int, tz: tzinfo) -> tuple[date, date]:
    """Return the first and last calendar day of the window ending on `at`'s day."""
    end = at.astimezone(tz).date()
    return end - timedelta(days=days - 1), end


def _whole_days(start: datetime, end: datetime) -> int:
    return max(0, (end - start) // DAY)


def streak_resets(regressions: Iterable[Regression], first_run_at: datetime | None) -> list[Reset]:
    """List the regressions that reset a streak: the first of each run, oldest first."""
    resets: list[Reset] = []
    since = first_run_at
    for reg in sorted(regressions, key=lambda r: (r.at, r.nodeid)):
        if resets and reg.at == resets[-1].at:
            continue  # several regressions of one run are one reset
        before = _whole_days(since, reg.at) if since is not None else 0
        resets.append(Reset(reg.at, reg.nodeid, reg.reason, before))
        since = reg.at
    return resets


def compute(inputs: ObjectiveInputs) -> Objective:
    """Compute the objective of one suite at `inputs.at`."""
    if inputs.at.tzinfo is None:
        raise ObjectiveError("naive_time", "the objective time must carry a time zone")
    if inputs.days < 1:
        raise ObjectiveError("bad_days", "objective_days must be at least 1")
    at = inputs.at
    regressions = [r for r in inputs.regressions if r.at <= at]
    resets = streak_resets(regressions, inputs.first_run_at)
    last = max(regressions, key=lambda r: (r.at, r.nodeid), default=None)
    if last is not None:
        last = min((r for r in regressions if r.at == last.at), key=lambda r: r.nodeid)
        streak = _whole_days(last.at, at)
    elif inputs.first_run_at is not None and inputs.first_run_at <= at:
        streak = _whole_days(inputs.first_run_at, at)
    else:
        streak = 0
    start, end = window(at, inputs.days, inputs.tz)
    run_days = {t.astimezone(inputs.tz).date() for t in inputs.run_times if t <= at}
    covered = sum(1 for d in run_days if start <= d <= end)
    # A window with no run at all shows nothing, so it cannot be called clean.
    clean = covered > 0 and not any(start <= r.at.astimezone(inputs.tz).date() for r in regressions)
    coverage = covered / inputs.days
    return Objective(
        suite=inputs.suite,
        at=at,
        days=inputs.days,
        streak_days=streak,
        last_regression=last,
        window_start=start,
        window_end=end,
        window_clean=clean,
        days_with_runs=covered,
        coverage=coverage,
        met=clean and coverage >= inputs.min_coverage,
        resets=tuple(resets),
        days_before_first_run=_days_before(inputs.first_run_at, start, end, inputs.tz),
    )


def _days_before(first_run_at: datetime | None, start: date, end: date, tz: tzinfo) -> int:
    """Count the window's days before the suite's first run (all of them without a run)."""
    if first_run_at is None:
        return (end - start).days + 1
    first = first_run_at.astimezone(tz).date()
    return max(0, min((first - start).days, (end - start).days + 1))


def window_start_time(at: datetime, days: int, tz: tzinfo) -> datetime:
    """Return the instant the window ending on `at`'s day begins (for queries)."""
    start, _ = window(at, days, tz)
    return datetime.combine(start, datetime.min.time(), tzinfo=tz)
