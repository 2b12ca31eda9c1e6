"""Read API: runs (paged), one run with its failures, known issues with rule precision, clusters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from bot.ports.store import FailureRecord, RunRecord
from bot.services import queries
from bot.store.uow import SqlUnitOfWork
from bot.web.deps import AppContext, Context
from bot.web.errors import ApiError, error_responses

router = APIRouter(prefix="/api/v1", tags=["read"])

Page = Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")]
# Bounded so a huge id is a 422, not an integer overflow in the database driver.
RunId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a run id", examples=[42])]
PerPage = Annotated[int, Query(ge=1, le=1000, description="items per page (capped by settings)")]


class RunOut(BaseModel):
    id: int = Field(examples=[42])
    suite: str = Field(examples=["staging-e2e"])
    environment: str = Field(examples=["staging"])
    branch: str | None = Field(examples=["main"])
    commit: str | None = Field(examples=["acb5820ced9479c074f688cc328bf03f341a511d"])
    ci_url: str | None = Field(examples=["https://github.com/acme/shop/actions/runs/30433642"])
    started_at: datetime = Field(examples=["2026-11-20T08:00:00Z"])
    ingested_at: datetime = Field(examples=["2026-11-20T08:21:07Z"])
    format: str = Field(examples=["pytest-json-report"])
    source: str = Field(examples=["api"])
    counts: dict[str, int] = Field(examples=[{"passed": 120, "failed": 3}])
    tests: int = Field(examples=[123])
    failure_count: int = Field(examples=[3])

    @classmethod
    def of(cls, record: RunRecord) -> RunOut:
        return cls.model_validate(_run_fields(record))


def _run_fields(record: RunRecord) -> dict[str, object]:
    r = record.run
    return {
        "id": record.id, "suite": r.suite, "environment": r.environment, "branch": r.branch,
        "commit": r.commit, "ci_url": r.ci_url, "started_at": r.started_at,
        "ingested_at": r.ingested_at, "format": r.format, "source": r.source, "counts": r.counts,
        "tests": r.tests, "failure_count": r.failure_count,
    }  # fmt: skip


class RunPage(BaseModel):
    items: list[RunOut]
    total: int = Field(examples=[318])
    page: int = Field(examples=[1])
    per_page: int = Field(examples=[50])


class FailureOut(BaseModel):
    nodeid: str = Field(examples=["tests/test_cart.py::test_checkout"])
    phase: str = Field(examples=["call"])
    outcome: str = Field(examples=["failed"])
    exception: str | None = Field(examples=["redis.exceptions.ConnectionError"])
    message: str = Field(examples=["ConnectionError: Error 111 connecting to <host>"])
    fingerprint: str = Field(examples=["3f2a9c0d1e2b4a5f"])
    known_issue: int | None = Field(examples=[412])
    rule: str | None = Field(examples=["redis-down#connection-refused"])
    classification: str = Field(examples=["known"])
    category: str = Field(examples=["infrastructure"])

    @classmethod
    def of(cls, f: FailureRecord) -> FailureOut:
        return cls(
            nodeid=f.nodeid, phase=f.phase, outcome=f.outcome, exception=f.exception,
            message=f.message, fingerprint=f.fingerprint, known_issue=f.known_issue,
            rule=f.rule, classification=f.classification, category=f.category,
        )  # fmt: skip


class RunDetail(RunOut):
    failures: list[FailureOut]


class RuleOut(BaseModel):
    rule: str = Field(examples=["redis-down#connection-refused"])
    matches: int = Field(examples=[57])
    wrong: int = Field(description="matches people marked wrong", examples=[2])
    precision: float | None = Field(
        description="1 - wrong/matches; null before any match", examples=[0.965]
    )


class KnownIssueOut(BaseModel):
    number: int = Field(examples=[412])
    title: str = Field(examples=["Redis refuses connections during deploys"])
    category: str | None = Field(examples=["infrastructure"])
    state: str | None = Field(description="GitHub state last seen", examples=["open"])
    occurrences: int = Field(examples=[57])
    runs: int = Field(examples=[21])
    last_seen: datetime | None = Field(examples=["2026-11-20T08:00:00Z"])
    rules: list[RuleOut]


class ClusterOut(BaseModel):
    fingerprint: str = Field(examples=["9d1c33e0a7b25f10"])
    suite: str = Field(examples=["staging-e2e"])
    count: int = Field(examples=[14])
    runs: int = Field(examples=[5])
    first_seen: datetime = Field(examples=["2026-11-02T08:00:00Z"])
    last_seen: datetime = Field(examples=["2026-11-20T08:00:00Z"])
    exception: str | None = Field(examples=["TimeoutError"])
    example_nodeid: str = Field(examples=["tests/test_search.py::test_facets"])
    example_message: str = Field(examples=["TimeoutError: search did not answer in <n>s"])
    suggested_rule: str = Field(examples=['exception = "TimeoutError"'])


class ClusterPage(BaseModel):
    items: list[ClusterOut]
    total: int = Field(examples=[37])
    page: int = Field(examples=[1])
    per_page: int = Field(examples=[50])


@contextmanager
def _reading(context: AppContext) -> Iterator[SqlUnitOfWork]:
    with context.uow(write=False) as uow:
        yield uow


def _per_page(context: AppContext, per_page: int) -> int:
    return min(per_page, context.settings.page_size_max)


@router.get("/runs", response_model=RunPage, summary="List runs, newest first",
            responses=error_responses(422))  # fmt: skip
def list_runs(
    context: Context,
    page: Page = 1,
    per_page: PerPage = 50,
    suite: Annotated[str | None, Query(max_length=200)] = None,
) -> RunPage:
    """Page through stored runs, newest first."""
    size = _per_page(context, per_page)
    with _reading(context) as uow:
        records, total = uow.runs.page(suite=suite, offset=(page - 1) * size, limit=size)
    return RunPage(items=[RunOut.of(r) for r in records], total=total, page=page, per_page=size)


@router.get("/runs/{run_id}", response_model=RunDetail, summary="One run with its failures",
            responses=error_responses(404, 422))  # fmt: skip
def get_run(context: Context, run_id: RunId) -> RunDetail:
    """Return a run and every failure in it."""
    with _reading(context) as uow:
        record = uow.runs.get(run_id=run_id)
        if record is None:
            raise ApiError(404, "not_found", f"no run {run_id}")
        failures = uow.failures.for_run(run_id=run_id)
    failed = [FailureOut.of(f) for f in failures]
    return RunDetail.model_validate({**_run_fields(record), "failures": failed})


@router.get("/known-issues", response_model=list[KnownIssueOut],
            summary="Known issues with occurrences and each rule's precision")  # fmt: skip
def known_issues(context: Context) -> list[KnownIssueOut]:
    """List every known issue with its occurrences and each rule's match count and precision."""
    with _reading(context) as uow:
        items = queries.known_issues(uow, context.kb)
    return [KnownIssueOut.model_validate(item, from_attributes=True) for item in items]


@router.get("/clusters", response_model=ClusterPage,
            summary="Unmatched fingerprints by count, with a suggested rule",
            responses=error_responses(422))  # fmt: skip
def clusters(context: Context, page: Page = 1, per_page: PerPage = 50) -> ClusterPage:
    """Page through clusters of unmatched failures, biggest first."""
    size = _per_page(context, per_page)
    with _reading(context) as uow:
        records, total = uow.clusters.top(offset=(page - 1) * size, limit=size)
    items = [ClusterOut.model_validate(r, from_attributes=True) for r in records]
    return ClusterPage(items=items, total=total, page=page, per_page=size)
