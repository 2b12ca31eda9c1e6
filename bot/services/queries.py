"""Read models for the API and dashboard: runs, run detail, known issues, clusters."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase
from bot.ports.store import RunRecord, UnitOfWork


class RunItem(BaseModel):
    id: int = Field(examples=[42])
    suite: str = Field(examples=["staging-e2e"])
    environment: str = Field(examples=["staging"])
    branch: str | None = Field(examples=["main"])
    commit: str | None = Field(examples=["3f2c1a9"])
    ci_url: str | None = Field(examples=["https://ci.example/runs/1"])
    started_at: datetime
    ingested_at: datetime
    format: str = Field(examples=["pytest-json-report"])
    counts: dict[str, int] = Field(examples=[{"passed": 950, "failed": 40, "error": 10}])
    tests: int
    failure_count: int


class RunListing(BaseModel):
    items: list[RunItem]
    total: int
    page: int
    per_page: int


class FailureItem(BaseModel):
    nodeid: str = Field(examples=["tests/e2e/test_chat.py::test_send"])
    phase: str = Field(examples=["setup"])
    outcome: str = Field(examples=["error"])
    exception: str | None = Field(examples=["redis.exceptions.ConnectionError"])
    message: str
    fingerprint: str = Field(examples=["7e23095d4deb5da5"])
    known_issue: int | None = Field(examples=[1029])
    rule: str | None = Field(examples=["1029-redis-connection-failures#redis-port-connect"])
    classification: str = Field(examples=["known"])
    category: str = Field(examples=["infrastructure"])


class RunDetail(RunItem):
    failures: list[FailureItem]


class RuleItem(BaseModel):
    rule: str
    matches: int
    wrong: int
    precision: float | None = Field(description="1 - wrong/matches; null before any match")


class KnownIssueItem(BaseModel):
    number: int = Field(examples=[1029])
    title: str
    category: str | None
    state: str | None = Field(description="open, closed, or null when GitHub never told us")
    occurrences: int
    runs: int
    last_seen: datetime | None
    rules: list[RuleItem]


class ClusterItem(BaseModel):
    fingerprint: str
    suite: str
    first_seen: datetime
    last_seen: datetime
    count: int
    runs: int
    exception: str | None
    example_nodeid: str
    example_message: str
    suggested_rule: str


class ClusterPage(BaseModel):
    items: list[ClusterItem]
    total: int
    page: int
    per_page: int


def _paging(page: int, per_page: int, max_per_page: int) -> tuple[int, int]:
    if page < 1 or not 1 <= per_page <= max_per_page:
        raise TriageError("bad_page", f"page must be >= 1 and per_page 1 to {max_per_page}")
    return (page - 1) * per_page, per_page


def _run_item(record: RunRecord) -> dict[str, object]:
    run = record.run
    return {
        "id": record.id,
        "suite": run.suite,
        "environment": run.environment,
        "branch": run.branch,
        "commit": run.commit,
        "ci_url": run.ci_url,
        "started_at": run.started_at,
        "ingested_at": run.ingested_at,
        "format": run.format,
        "counts": run.counts,
        "tests": run.tests,
        "failure_count": run.failure_count,
    }


def list_runs(
    uow: UnitOfWork,
    *,
    suite: str | None = None,
    page: int = 1,
    per_page: int = 50,
    max_per_page: int = 200,
) -> RunListing:
    """Return one page of runs, newest first, with the total."""
    offset, limit = _paging(page, per_page, max_per_page)
    records, total = uow.runs.page(suite=suite, offset=offset, limit=limit)
    items = [RunItem.model_validate(_run_item(r)) for r in records]
    return RunListing(items=items, total=total, page=page, per_page=per_page)


def get_run(uow: UnitOfWork, *, run_id: int) -> RunDetail:
    """Return a run with its failures; TriageError("not_found") when there is none."""
    record = uow.runs.get(run_id=run_id)
    if record is None:
        raise TriageError("not_found", f"run {run_id} does not exist")
    failures = [
        FailureItem(
            nodeid=f.nodeid,
            phase=f.phase,
            outcome=f.outcome,
            exception=f.exception,
            message=f.message,
            fingerprint=f.fingerprint,
            known_issue=f.known_issue,
            rule=f.rule,
            classification=f.classification,
            category=f.category,
        )
        for f in uow.failures.for_run(run_id=run_id)
    ]
    return RunDetail.model_validate({**_run_item(record), "failures": failures})


def known_issues(uow: UnitOfWork, kb: KnowledgeBase) -> list[KnownIssueItem]:
    """List every known issue (knowledge base or seen in history) with occurrences and rules."""
    stats = {s.issue: s for s in uow.reads.issue_stats()}
    states = {s.number: s for s in uow.issues.all()}
    rules: dict[int, list[RuleItem]] = {}
    for r in uow.reads.rule_stats():
        precision = 1 - r.wrong / r.matches if r.matches else None
        rules.setdefault(r.issue, []).append(
            RuleItem(rule=r.rule, matches=r.matches, wrong=r.wrong, precision=precision)
        )
    items = []
    for number in sorted(set(kb.issues) | set(stats)):
        issue = kb.issues.get(number)
        listed = {r.rule for r in rules.get(number, [])}
        unused = [r.id for r in issue.rules if r.id not in listed] if issue else []
        rules.setdefault(number, []).extend(
            RuleItem(rule=rule, matches=0, wrong=0, precision=None) for rule in unused
        )
        stat = stats.get(number)
        state = states.get(number)
        title = issue.title if issue else (state.title if state else "")
        items.append(
            KnownIssueItem(
                number=number,
                title=title,
                category=issue.category.value if issue else None,
                state=state.state if state else None,
                occurrences=stat.occurrences if stat else 0,
                runs=stat.runs if stat else 0,
                last_seen=stat.last_seen if stat else None,
                rules=rules.get(number, []),
            )
        )
    return items


def list_clusters(
    uow: UnitOfWork, *, page: int = 1, per_page: int = 50, max_per_page: int = 200
) -> ClusterPage:
    """Return unmatched fingerprints by failure count, largest first."""
    offset, limit = _paging(page, per_page, max_per_page)
    records, total = uow.clusters.top(offset=offset, limit=limit)
    items = [ClusterItem.model_validate(r, from_attributes=True) for r in records]
    return ClusterPage(items=items, total=total, page=page, per_page=per_page)
