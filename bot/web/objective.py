"""GET /api/v1/objective and GET /api/v1/criteria."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from bot.core.errors import TriageError
from bot.core.objective import Objective
from bot.core.tasklist import TaskCheck
from bot.core.timeutil import as_utc
from bot.core.weekly import MAX_YEAR, MIN_YEAR, IsoWeek, last_complete_week
from bot.services.objective import UnknownSuiteError, objective, report_tz
from bot.services.weekly import judge_week
from bot.web.deps import Context
from bot.web.errors import ApiError, error_responses

# The API lists the newest resets only, so its cost does not grow with the suite's history: a
# noisy suite resets its streak on nearly every run (a year held 1,095).
DEFAULT_RESETS = 100
MAX_RESETS = 1000

router = APIRouter()


class ObjectiveRegressionOut(BaseModel):
    at: datetime = Field(examples=["2026-11-09T06:12:00Z"])
    nodeid: str = Field(examples=["tests/e2e/staging/test_chat.py::test_send_message"])
    reason: str = Field(examples=["new: FixtureLookupError: fixture 'real_services' not found"])


class ResetOut(ObjectiveRegressionOut):
    streak_before_days: int = Field(
        description="length of the streak this regression ended", examples=[9]
    )


class ObjectiveOut(BaseModel):
    """The no-infrastructure-regression objective of one suite at one instant."""

    suite: str = Field(examples=["staging"])
    at: datetime = Field(examples=["2026-11-24T09:00:00Z"])
    days: int = Field(description="length of the objective window", examples=[30])
    streak_days: int = Field(description="whole days since the last regression", examples=[15])
    progress: str = Field(examples=["15/30 days"])
    last_regression: ObjectiveRegressionOut | None
    window_start: date = Field(examples=["2026-10-26"])
    window_end: date = Field(examples=["2026-11-24"])
    window_clean: bool = Field(
        description="no infrastructure regression in the window", examples=[False]
    )
    days_with_runs: int = Field(examples=[29])
    coverage: float = Field(
        ge=0, le=1, description="share of window days with a run", examples=[0.9667]
    )
    met: bool = Field(
        description="window clean and coverage at least the configured share", examples=[False]
    )
    resets: list[ResetOut] = Field(
        description="the regressions that reset a streak, newest last: the newest `resets` of them"
    )
    resets_truncated: bool = Field(
        default=False, description="older resets exist beyond the ones listed", examples=[False]
    )


def objective_out(obj: Objective, *, resets_truncated: bool = False) -> ObjectiveOut:
    """Turn the core objective into its API shape."""
    last = obj.last_regression
    return ObjectiveOut(
        suite=obj.suite,
        at=obj.at,
        days=obj.days,
        streak_days=obj.streak_days,
        progress=obj.progress,
        last_regression=ObjectiveRegressionOut(at=last.at, nodeid=last.nodeid, reason=last.reason)
        if last
        else None,
        window_start=obj.window_start,
        window_end=obj.window_end,
        window_clean=obj.window_clean,
        days_with_runs=obj.days_with_runs,
        coverage=round(obj.coverage, 4),
        met=obj.met,
        resets=[
            ResetOut(
                at=r.at, nodeid=r.nodeid, reason=r.reason, streak_before_days=r.streak_before_days
            )
            for r in obj.resets
        ],
        resets_truncated=resets_truncated,
    )


def parse_at(value: str | None, now: datetime) -> datetime:
    """Parse an ISO 8601 instant (naive means UTC); 422 when it is not one of years 2000-9998."""
    if value is None:
        return now
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(
            422, "bad_timestamp", f"at must be an ISO 8601 time, not {value!r}"
        ) from None
    if not MIN_YEAR <= at.year <= MAX_YEAR:
        raise ApiError(422, "bad_timestamp", f"at must be in the years {MIN_YEAR} to {MAX_YEAR}")
    return at if at.tzinfo is not None else as_utc(at)


@router.get(
    "/api/v1/objective",
    response_model=ObjectiveOut,
    tags=["objective"],
    summary="The 30-day no-infrastructure-regression objective of a suite",
    responses=error_responses(404, 422),
)
def get_objective(
    context: Context,
    suite: Annotated[str, Query(min_length=1, max_length=200, examples=["staging"])],
    at: Annotated[
        str | None,
        Query(
            description="ISO 8601 instant of the years 2000 to 9998; now when left out",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    resets: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_RESETS,
            description=f"how many of the newest streak resets to list (at most {MAX_RESETS})",
        ),
    ] = DEFAULT_RESETS,
) -> ObjectiveOut:
    """Answer the streak, last regression, clean window, coverage and the newest resets."""
    when = parse_at(at, context.clock())
    try:
        # One more than asked tells whether older resets exist, without counting them all.
        obj = objective(
            context.reports, suite=suite, at=when, config=context.report_config,
            resets=resets + 1,
        )  # fmt: skip
    except UnknownSuiteError as exc:
        raise ApiError(404, exc.reason, exc.message) from None
    truncated = len(obj.resets) > resets
    listed = obj.resets[len(obj.resets) - resets :] if resets else ()
    return objective_out(replace(obj, resets=listed), resets_truncated=truncated)


class TaskCheckOut(BaseModel):
    """A task criterion's item on the tracking issue, as of the week's end."""

    item: str = Field(examples=["Monitoring alerts for staging test health implemented"])
    checked: bool = Field(examples=[True])
    by: str | None = Field(
        description="who checked or unchecked it; null when GitHub did not say (the item was "
        "already so when tracking began, or the edit's delivery was missed)",
        examples=["alice"],
    )
    at: datetime = Field(
        description="the issue's updated_at of the edit; for a null `by`, when it was first seen",
        examples=["2026-11-28T14:02:11Z"],
    )


def _task_out(check: TaskCheck | None) -> TaskCheckOut | None:
    if check is None:
        return None
    return TaskCheckOut(item=check.item, checked=check.checked, by=check.by, at=check.at)


class CriterionVerdictOut(BaseModel):
    id: str = Field(examples=["pass-chat"])
    title: str = Field(examples=["chat tests pass at least 95% of the time"])
    kind: str = Field(examples=["pass_rate"])
    status: str = Field(description="met, not met or no data", examples=["not met"])
    evidence: str = Field(
        examples=["71.4% passed (4 failed of 14 test runs, 2 tests); threshold 95%"]
    )
    task: TaskCheckOut | None = Field(
        default=None, description="kind task: the tracking issue's task item behind the verdict"
    )


class CriteriaOut(BaseModel):
    suite: str = Field(examples=["staging-e2e"])
    week: str = Field(examples=["2026-W47"])
    verdicts: list[CriterionVerdictOut]


@router.get(
    "/api/v1/criteria",
    response_model=CriteriaOut,
    tags=["objective"],
    summary="The success criteria judged on one ISO week of a suite",
    responses=error_responses(404, 422),
)
def get_criteria(
    context: Context,
    suite: Annotated[str, Query(min_length=1, max_length=200, examples=["staging"])],
    week: Annotated[
        str | None,
        Query(
            description="ISO week of the years 2000 to 9998; the last complete one when left out",
            pattern=r"^\d{4}-W\d{2}$",
            examples=["2026-W47"],
        ),
    ] = None,
) -> CriteriaOut:
    """Answer each criterion's verdict (met, not met, no data) and its evidence."""
    now = context.clock()
    config = context.report_config
    try:
        chosen = IsoWeek.parse(week) if week else last_complete_week(now, report_tz(config))
    except TriageError as exc:
        raise ApiError(422, exc.reason, exc.message) from None
    try:
        verdicts = judge_week(
            context.reports,
            suite=suite,
            week=chosen,
            now=now,
            config=config,
            criteria=context.criteria,
        )
    except UnknownSuiteError as exc:
        raise ApiError(404, exc.reason, exc.message) from None
    return CriteriaOut(
        suite=suite,
        week=str(chosen),
        verdicts=[
            CriterionVerdictOut(
                id=v.criterion.id,
                title=v.criterion.title,
                kind=v.criterion.kind,
                status=v.status.value,
                evidence=v.evidence,
                task=_task_out(v.check),
            )
            for v in verdicts
        ],
    )
