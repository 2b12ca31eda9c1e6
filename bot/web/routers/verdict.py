"""A run's verdict for deploy gates, and a suite's status for deployment dashboards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from bot.core.gate import SuspectRange
from bot.services.objective import UnknownSuiteError, objective
from bot.services.verdict import RunJudgement, judge_stored_run
from bot.web.deps import Context
from bot.web.errors import ApiError, error_responses
from bot.web.pages.html import github_web

router = APIRouter(prefix="/api/v1", tags=["read"])
LISTED = 100  # deciding failures listed in an answer; the counts cover them all
RunId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a run id", examples=[42])]


class DecidingOut(BaseModel):
    nodeid: str = Field(examples=["tests/test_auth.py::test_login"])
    classification: str = Field(examples=["new"])
    category: str = Field(examples=["infrastructure"])
    known_issue: int | None = Field(examples=[None])


class SuspectOut(BaseModel):
    """Where a new failure started: the last run the test passed in and the first it failed."""

    nodeid: str = Field(examples=["tests/test_auth.py::test_login"])
    first_failed_run: int = Field(examples=[42])
    first_failed_commit: str | None = Field(examples=["9fceb02"])
    last_passed_run: int | None = Field(examples=[41])
    last_passed_commit: str | None = Field(examples=["4a5e1e4"])
    compare_url: str | None = Field(
        examples=["https://github.com/acme/shop/compare/4a5e1e4...9fceb02"]
    )


class RunVerdictOut(BaseModel):
    """pass: no failure; known: every failure known or flaky; blocked: news decides it."""

    run_id: int = Field(examples=[42])
    status: str = Field(examples=["blocked"])
    title: str = Field(
        examples=[
            "12 failures: 11 known (#1086 \u00d76, #1029 \u00d75), 1 new infrastructure failure"
        ]
    )
    failures: int = Field(examples=[12])
    known: int = Field(examples=[11])
    flaky: int = Field(examples=[0])
    known_issues: dict[int, int] = Field(examples=[{1086: 6, 1029: 5}])
    deciding: list[DecidingOut] = Field(description=f"the first {LISTED} failures that block")
    deciding_total: int = Field(examples=[1])
    suspects: list[SuspectOut]


def compare_url(web: str | None, suspect: SuspectRange) -> str | None:
    """GitHub's compare view between the last passing and the first failing commit."""
    a, b = suspect.last_passed_commit, suspect.first_failed_commit
    if web is None or not a or not b or a == b:
        return None
    return f"{web}/compare/{a}...{b}"


def verdict_out(judgement: RunJudgement, web: str | None) -> RunVerdictOut:
    """Shape a run's judgement for the API."""
    v = judgement.verdict
    return RunVerdictOut(
        run_id=judgement.run_id,
        status=v.status.value,
        title=v.title,
        failures=v.failures,
        known=v.known,
        flaky=v.flaky,
        known_issues=dict(v.known_by_issue),
        deciding=[
            DecidingOut(
                nodeid=f.nodeid,
                classification=f.classification.value,
                category=f.category.value,
                known_issue=f.known_issue,
            )
            for f in v.deciding[:LISTED]
        ],
        deciding_total=len(v.deciding),
        suspects=[
            SuspectOut(
                nodeid=s.nodeid,
                first_failed_run=s.first_failed_run,
                first_failed_commit=s.first_failed_commit,
                last_passed_run=s.last_passed_run,
                last_passed_commit=s.last_passed_commit,
                compare_url=compare_url(web, s),
            )
            for s in judgement.suspects
        ],
    )


def run_verdict(context: Context, run_id: int) -> RunVerdictOut:
    """Judge one stored run now; 404 for an unknown run."""
    with context.uow(write=False) as uow:
        if uow.runs.get(run_id=run_id) is None:
            raise ApiError(404, "not_found", f"no run {run_id}")
        judgement = judge_stored_run(uow, run_id=run_id)
    return verdict_out(judgement, github_web(context.settings))


@router.get(
    "/runs/{run_id}/verdict",
    response_model=RunVerdictOut,
    summary="A run's verdict for a deploy gate",
    responses=error_responses(404, 422),
)
def get_verdict(context: Context, run_id: RunId) -> RunVerdictOut:
    """Say whether a run has only known (or flaky) failures, or news that should block."""
    return run_verdict(context, run_id)


class ObjectiveBrief(BaseModel):
    streak_days: int = Field(examples=[15])
    met: bool = Field(examples=[False])
    coverage: float = Field(examples=[0.97])
    progress: str = Field(examples=["15/30 days"])


class SuiteStatus(BaseModel):
    """What a deployment dashboard or pipeline polls: the newest run's verdict, the objective."""

    suite: str = Field(examples=["staging-e2e"])
    environment: str = Field(examples=["staging"])
    latest_run: RunVerdictOut | None
    objective: ObjectiveBrief


@router.get(
    "/suites/{suite}/status",
    response_model=SuiteStatus,
    summary="A suite's newest verdict and its 30-day objective",
    responses=error_responses(404, 422),
)
def get_suite_status(
    context: Context,
    suite: Annotated[str, Path(min_length=1, max_length=200)],
    environment: Annotated[str, Query(min_length=1, max_length=100)] = "staging",
) -> SuiteStatus:
    """Return the newest run's verdict (by its own start time) and the objective."""
    try:
        goal = objective(
            context.reports, suite=suite, at=context.clock(), config=context.report_config
        )
    except UnknownSuiteError as exc:
        raise ApiError(404, exc.reason, exc.message) from None
    with context.uow(write=False) as uow:
        latest = uow.verdicts.latest_run(suite=suite, environment=environment)
    return SuiteStatus(
        suite=suite,
        environment=environment,
        latest_run=None if latest is None else run_verdict(context, latest),
        objective=ObjectiveBrief(
            streak_days=goal.streak_days,
            met=goal.met,
            coverage=round(goal.coverage, 4),
            progress=goal.progress,
        ),
    )
