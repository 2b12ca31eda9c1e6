"""POST /api/v1/runs: upload a report in any of the three formats, maybe gzip, with metadata."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.core.classify import RunSummary
from bot.core.errors import TriageError
from bot.core.timeutil import as_utc
from bot.services.ingest import IngestResult
from bot.services.run_meta import RunMeta, check_meta
from bot.web.auth import require_token
from bot.web.body import decode_body, read_capped
from bot.web.deps import Context
from bot.web.errors import ApiError, error_responses
from bot.web.routers.verdict import RunVerdictOut, run_verdict

log = logging.getLogger(__name__)
router = APIRouter(tags=["runs"])
# Ingests run in worker threads, but they share the GIL with the event loop: a few at a time
# leave it free often enough to answer other requests; the rest wait here without costing CPU.
_INGESTS = anyio.Semaphore(2)


class RunRegressionOut(BaseModel):
    nodeid: str = Field(examples=["tests/test_cart.py::test_checkout"])
    phase: str = Field(examples=["setup"])
    classification: str = Field(examples=["new"])
    exception: str | None = Field(examples=["redis.exceptions.ConnectionError"])
    fingerprint: str = Field(examples=["3f2a9c0d1e2b4a5f"])


class SummaryOut(BaseModel):
    """Counts per outcome, classification and known issue, and the infrastructure regressions."""

    outcomes: dict[str, int] = Field(examples=[{"passed": 120, "failed": 3, "error": 1}])
    classifications: dict[str, int] = Field(
        examples=[{"known": 2, "recurred": 0, "flaky": 1, "new": 1, "persistent": 0}]
    )
    known_issues: dict[int, int] = Field(examples=[{412: 2}])
    infrastructure_regressions: list[RunRegressionOut]

    @classmethod
    def of(cls, summary: RunSummary) -> SummaryOut:
        return cls(
            outcomes=summary.outcomes,
            classifications=summary.classifications,
            known_issues=summary.known_issues,
            infrastructure_regressions=[
                RunRegressionOut(
                    nodeid=r.nodeid,
                    phase=r.phase,
                    classification=r.classification.value,
                    exception=r.exception,
                    fingerprint=r.fingerprint,
                )
                for r in summary.regressions
            ],
        )


class UploadAnswer(BaseModel):
    """The stored run: 201 when new, 200 when the same report was stored before."""

    run_id: int = Field(examples=[42])
    created: bool = Field(examples=[True])
    summary: SummaryOut
    # What a deploy gate reads: pass, known (only known or flaky failures) or blocked.
    verdict: RunVerdictOut


@contextmanager
def _bad_meta_is_422() -> Iterator[None]:
    """Answer metadata the ingest service refuses (control characters, dates...) with 422."""
    try:
        yield
    except TriageError as exc:
        if exc.reason != "bad_meta":
            raise
        raise ApiError(422, exc.reason, exc.message) from None


def _answer(result: IngestResult, verdict: RunVerdictOut) -> JSONResponse:
    body = UploadAnswer(
        run_id=result.run_id,
        created=result.created,
        summary=SummaryOut.of(result.summary),
        verdict=verdict,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if result.created else 200)


@router.post(
    "/api/v1/runs",
    status_code=201,
    response_model=UploadAnswer,
    summary="Upload a test report",
    dependencies=[Depends(require_token)],
    responses={
        200: {"model": UploadAnswer, "description": "The same report was stored before"},
        **error_responses(400, 401, 413, 415, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A pytest-json-report JSON, a pytest-reportlog JSONL or a JUnit XML "
            "report, optionally with Content-Encoding: gzip.",
            "content": {
                "application/json": {"schema": {"type": "string", "format": "binary"}},
                "application/xml": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_run(
    request: Request,
    *,
    context: Context,
    suite: Annotated[str, Query(min_length=1, max_length=200, examples=["staging-e2e"])],
    environment: Annotated[str, Query(max_length=200)] = "staging",
    branch: Annotated[str | None, Query(max_length=500)] = None,
    commit: Annotated[str | None, Query(max_length=100)] = None,
    ci_url: Annotated[str | None, Query(max_length=2000, description="an http(s) URL")] = None,
    started_at: Annotated[
        datetime | None,
        Query(
            description="ISO 8601; backfills history when set. From 2000 to at most a day "
            "ahead; a report's own start time is held to the same range."
        ),
    ] = None,
) -> JSONResponse:
    """Store a report once and answer its run id and summary."""
    if started_at is not None:
        started_at = as_utc(started_at)
    meta = RunMeta(
        suite=suite,
        environment=environment,
        branch=branch,
        commit=commit,
        ci_url=ci_url,
        started_at=started_at,
        source="api",
    )
    with _bad_meta_is_422():
        check_meta(meta)
    limit = context.settings.max_report_bytes
    raw = await read_capped(request, limit, "report")
    encoding = request.headers.get("content-encoding")
    async with _INGESTS:  # gunzip and ingest off the event loop, a few at a time
        data = await run_in_threadpool(decode_body, raw, encoding, limit)
        with _bad_meta_is_422():
            result = await run_in_threadpool(context.ingest, data, meta)
    log.info("run %s %s for suite %s", result.run_id, "stored" if result.created else "seen", suite)
    verdict = await run_in_threadpool(run_verdict, context, result.run_id)
    return _answer(result, verdict)
