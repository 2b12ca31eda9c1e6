"""GET /runs/{id}, /issues/{n}, /clusters/{fingerprint}, /tests, /criteria: the triage pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from bot.core.errors import TriageError
from bot.core.weekly import IsoWeek, last_complete_week
from bot.services.cluster_page import cluster_page
from bot.services.objective import UnknownSuiteError, report_tz
from bot.services.pages import issue_page, run_page, test_page
from bot.services.verdict import judge_stored_run
from bot.services.weekly import judge_week
from bot.store.pages import PagesUnitOfWork, pages_uow
from bot.web.deps import AppContext, Context
from bot.web.errors import ApiError
from bot.web.pages.cluster import render_cluster
from bot.web.pages.criteria import render_criteria
from bot.web.pages.issue import render_issue
from bot.web.pages.run import render_run
from bot.web.pages.testpage import render_test

router = APIRouter(include_in_schema=False)

Suite = Annotated[str, Query(min_length=1, max_length=200)]


@contextmanager
def _reading(context: AppContext) -> Iterator[PagesUnitOfWork]:
    """Open a read transaction; a TriageError("not_found") inside becomes a 404."""
    try:
        with pages_uow(context.engine) as uow:
            yield uow
    except TriageError as exc:
        if exc.reason != "not_found":
            raise
        raise ApiError(404, exc.reason, exc.message) from None


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(context: Context, run_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> HTMLResponse:
    """Render one run with every failure."""
    with _reading(context) as uow:
        view = run_page(uow, context.kb, run_id=run_id)
        judgement = judge_stored_run(uow, run_id=run_id)
    return render_run(view, context.settings, judgement)


@router.get("/issues/{number}", response_class=HTMLResponse)
def issue(context: Context, number: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> HTMLResponse:
    """Render one known issue."""
    settings = context.settings
    with _reading(context) as uow:
        view = issue_page(
            uow,
            context.kb,
            number=number,
            now=context.clock(),
            days=settings.objective_days,
            tz=report_tz(context.report_config),
        )
    return render_issue(view, settings)


@router.get("/clusters/{fingerprint}", response_class=HTMLResponse)
def cluster(
    context: Context, fingerprint: Annotated[str, Path(min_length=1, max_length=64)]
) -> HTMLResponse:
    """Render one cluster of unmatched failures and its suggested knowledge file."""
    with _reading(context) as uow:
        view = cluster_page(uow, fingerprint=fingerprint)
    return render_cluster(view)


@router.get("/tests", response_class=HTMLResponse)
def test(
    context: Context, suite: Suite, nodeid: Annotated[str, Query(min_length=1, max_length=5000)]
) -> HTMLResponse:
    """Render one test of one suite."""
    with _reading(context) as uow:
        view = test_page(uow, context.kb, suite=suite, nodeid=nodeid)
    return render_test(view)


@router.get("/criteria", response_class=HTMLResponse)
def criteria(
    context: Context,
    suite: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    week: Annotated[str | None, Query(pattern=r"^\d{4}-W\d{2}$")] = None,
) -> HTMLResponse:
    """Render the week's success criteria of a suite (the first suite by default)."""
    now, config = context.clock(), context.report_config
    try:
        chosen = IsoWeek.parse(week) if week else last_complete_week(now, report_tz(config))
    except TriageError as exc:
        raise ApiError(422, exc.reason, exc.message) from None
    with context.reports() as tx:
        suites = tx.reports.suites()
    name = suite or (suites[0] if suites else None)
    current = IsoWeek.of(now.astimezone(report_tz(config)).date())
    if name is None:
        return render_criteria(suites, None, chosen, current, [])
    try:
        verdicts = judge_week(
            context.reports, suite=name, week=chosen, now=now, config=config,
            criteria=context.criteria,
        )  # fmt: skip
    except UnknownSuiteError as exc:
        raise ApiError(404, exc.reason, exc.message) from None
    return render_criteria(suites, name, chosen, current, verdicts)
