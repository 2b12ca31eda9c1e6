"""Ingest a report: parse, dedupe, match, classify against history, persist in one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.core.classify import (
    FailureVerdict,
    FlakyPolicy,
    Prior,
    RunSummary,
    classify,
    letter,
    summarise,
)
from bot.core.clusters import ClusterSummary, suggest_rule
from bot.core.digest import report_digest
from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase
from bot.core.model import Category, Classification, Failure, Match, Outcome, Phase, TestRun
from bot.core.redact import redact_run
from bot.core.reports import read_report_bytes
from bot.core.signature import SIGNATURE_VERSION, fingerprint
from bot.core.timeutil import as_utc
from bot.ports.store import FailureRecord, IssueState, NewRun, RunRecord, UnitOfWork
from bot.services.corrections import match_failures
from bot.services.rejudge import mark_flaky
from bot.services.run_identity import same_run
from bot.services.run_meta import RunMeta, check_meta, check_started, redact_meta


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """Knobs: the report size cap and the flaky policy (bot.configs builds them from settings)."""

    max_bytes: int = 50 * 1024 * 1024
    flaky: FlakyPolicy = field(default_factory=FlakyPolicy)


@dataclass(frozen=True, slots=True)
class IngestResult:
    run_id: int
    created: bool
    summary: RunSummary
    # This run's classified failures, for write-back plans.
    verdicts: tuple[FailureVerdict, ...] = ()


def ingest_report(
    uow: UnitOfWork,
    kb: KnowledgeBase,
    data: bytes,
    meta: RunMeta,
    *,
    now: datetime,
    options: IngestOptions | None = None,
) -> IngestResult:
    """Parse and store a report (any format, maybe gzip); the same report again is a no-op."""
    options = options or IngestOptions()
    check_meta(meta)
    digest = report_digest(data, max_bytes=options.max_bytes)
    # Parse before the first query: on SQLite that query takes the write lock until commit.
    run = read_report_bytes(data, max_bytes=options.max_bytes)
    return ingest_run(uow, kb, run, meta, digest, now=now, options=options)


def ingest_run(
    uow: UnitOfWork,
    kb: KnowledgeBase,
    run: TestRun,
    meta: RunMeta,
    digest: str,
    *,
    now: datetime,
    options: IngestOptions | None = None,
) -> IngestResult:
    """Store a parsed run in the caller's unit of work; the caller commits."""
    options = options or IngestOptions()
    # Every check before the duplicate look-up: the same bad upload is refused every time.
    check_meta(meta)
    started = as_utc(meta.started_at or run.created or now)
    check_started(started, now=as_utc(now))
    # Masked once, here, before anything is stored: no reader can see a credential.
    run, meta = redact_run(run), redact_meta(meta)
    existing = uow.runs.find(suite=meta.suite, environment=meta.environment, digest=digest)
    if existing is not None:
        return stored_result(uow, existing)
    identity, same = same_run(uow, run, meta, now=as_utc(now))
    if same is not None:
        return stored_result(uow, same)
    failures = [*run.failures, *_flaky_passes(run)]
    verdicts = _classify_all(uow, kb, failures, meta=meta, started=started, options=options)
    new_run = _new_run(run, meta, digest, started=started, now=now, kb_digest=kb.digest)
    run_id = uow.runs.add(run=new_run)
    if run_id is None:  # a concurrent upload of the same report won
        winner = uow.runs.find(suite=meta.suite, environment=meta.environment, digest=digest)
        if winner is None:
            raise TriageError("conflict", "the same report is being stored concurrently")
        return stored_result(uow, winner)
    uow.failures.add_many(
        rows=[_record(run_id, new_run, f, v) for f, v in zip(failures, verdicts, strict=True)]
    )
    uow.identities.add(
        suite=meta.suite, environment=meta.environment, identity=replace(identity, run_id=run_id)
    )
    uow.tests.record_run(
        suite=meta.suite, environment=meta.environment, tests=run.tests, run_id=run_id, at=started
    )
    uow.clusters.record(hits=_cluster_hits(meta.suite, started, failures, verdicts))
    flaky = {v.nodeid for v in verdicts if v.classification is Classification.FLAKY}
    mark_flaky(
        uow,
        suite=meta.suite,
        environment=meta.environment,
        nodeids=flaky,
        before=started,
        now=as_utc(now),
        policy=options.flaky,
    )
    summary = summarise(new_run.counts, verdicts)
    return IngestResult(run_id=run_id, created=True, summary=summary, verdicts=tuple(verdicts))


def _classify_all(
    uow: UnitOfWork,
    kb: KnowledgeBase,
    failures: Sequence[Failure],
    *,
    meta: RunMeta,
    started: datetime,
    options: IngestOptions,
) -> list[FailureVerdict]:
    """Match (manual links, then rules) and classify each failure against the suite's history."""
    matches = match_failures(kb, uow.links.links(), failures)
    states = {s.number: _state_when(s, started) for s in uow.issues.all()}
    priors = _priors(uow, meta, started, {f.nodeid for f in failures}, options.flaky.window)
    return [
        _verdict(
            f,
            m,
            kb=kb,
            issue_state=states.get(m.issue) if m else None,
            prior=priors.get(f.nodeid),
            options=options,
        )
        for f, m in zip(failures, matches, strict=True)
    ]


def _state_when(state: IssueState, started: datetime) -> str:
    # A run that started before the issue was closed saw it open: a backfilled run of that
    # time is "known", not "recurred", and resets no streak.
    if state.state == "closed" and started < state.updated_at:
        return "open"
    return state.state


def _new_run(
    run: TestRun, meta: RunMeta, digest: str, *, started: datetime, now: datetime, kb_digest: str
) -> NewRun:
    return NewRun(
        suite=meta.suite,
        environment=meta.environment,
        branch=meta.branch,
        commit=meta.commit,
        ci_url=meta.ci_url,
        started_at=started,
        ingested_at=as_utc(now),
        format=run.format.value,
        counts=run.counts(),
        tests=len(run.tests),
        failure_count=len(run.failures),
        report_digest=digest,
        knowledge_digest=kb_digest,
        source=meta.source,
    )


def stored_result(uow: UnitOfWork, stored: RunRecord) -> IngestResult:
    """Rebuild the result of a run stored earlier, from its failure rows."""
    verdicts = [
        FailureVerdict(
            nodeid=r.nodeid,
            phase=r.phase,
            outcome=r.outcome,
            exception=r.exception,
            fingerprint=r.fingerprint,
            known_issue=r.known_issue,
            rule=r.rule,
            classification=Classification(r.classification),
            category=Category(r.category),
        )
        for r in uow.failures.for_run(run_id=stored.id)
    ]
    summary = summarise(stored.run.counts, verdicts)
    return IngestResult(run_id=stored.id, created=False, summary=summary, verdicts=tuple(verdicts))


def _flaky_passes(run: TestRun) -> list[Failure]:
    """Stand-in failure rows for tests that passed on rerun (the readers give no Failure)."""
    failed = {f.nodeid for f in run.failures}
    return [
        Failure(t.nodeid, Phase.CALL, Outcome.FLAKY, None, (), "", "", t.keywords)
        for t in run.tests
        if t.outcome is Outcome.FLAKY and t.nodeid not in failed
    ]


def _priors(
    uow: UnitOfWork, meta: RunMeta, started: datetime, nodeids: set[str], window: int
) -> dict[str, Prior]:
    """Letters of the failing tests in the suite's runs before this one, oldest first."""
    if not nodeids:
        return {}
    run_ids = uow.runs.previous(
        suite=meta.suite, environment=meta.environment, before=started, limit=max(window - 1, 1)
    )
    outcomes = uow.failures.outcomes(run_ids=run_ids, nodeids=nodeids)
    letters: dict[str, list[str]] = defaultdict(list)
    for run_id in reversed(run_ids):
        seen = outcomes.get(run_id, {})
        for nodeid in nodeids:
            letters[nodeid].append(letter(seen.get(nodeid, Outcome.PASSED)))
    return {nodeid: Prior("".join(chars)) for nodeid, chars in letters.items()}


def _verdict(
    failure: Failure,
    match: Match | None,
    *,
    kb: KnowledgeBase,
    issue_state: str | None,
    prior: Prior | None,
    options: IngestOptions,
) -> FailureVerdict:
    classification = classify(
        outcome=failure.outcome,
        match=match,
        issue_state=issue_state,
        prior=prior or Prior(),
        policy=options.flaky,
    )
    flaky_pass = failure.outcome is Outcome.FLAKY
    return FailureVerdict(
        nodeid=failure.nodeid,
        phase=failure.phase.value,
        outcome=failure.outcome.value,
        exception=failure.exception,
        fingerprint="" if flaky_pass else fingerprint(failure),
        known_issue=match.issue if match else None,
        rule=match.rule if match else None,
        classification=classification,
        category=Category.PRODUCT if flaky_pass else kb.category(failure, match),
    )


def _record(run_id: int, run: NewRun, f: Failure, v: FailureVerdict) -> FailureRecord:
    return FailureRecord(
        run_id=run_id,
        suite=run.suite,
        environment=run.environment,
        started_at=run.started_at,
        nodeid=f.nodeid,
        phase=v.phase,
        outcome=v.outcome,
        exception=f.exception,
        chain=f.chain,
        message=f.message,
        text=excerpt(f.text),
        keywords=tuple(sorted(f.keywords)),
        fingerprint=v.fingerprint,
        signature_version=SIGNATURE_VERSION,
        known_issue=v.known_issue,
        rule=v.rule,
        classification=v.classification.value,
        category=v.category.value,
    )


def excerpt(text: str, cap: int = 2000) -> str:
    """Keep the head and the tail of a long text (the tail holds pytest's "E" lines)."""
    if len(text) <= cap:
        return text
    head = cap // 4
    return f"{text[:head]}\n...\n{text[-(cap - head - 5) :]}"


def _cluster_hits(
    suite: str, started: datetime, failures: Sequence[Failure], verdicts: Sequence[FailureVerdict]
) -> list[ClusterSummary]:
    """Group this run's unmatched failures by fingerprint, with the first as the example."""
    groups: dict[str, list[Failure]] = {}
    for failure, verdict in zip(failures, verdicts, strict=True):
        if verdict.known_issue is None and verdict.fingerprint:
            groups.setdefault(verdict.fingerprint, []).append(failure)
    return [
        ClusterSummary(
            fingerprint=fp,
            suite=suite,
            first_seen=started,
            last_seen=started,
            count=len(members),
            runs=1,
            exception=members[0].exception,
            example_nodeid=members[0].nodeid,
            example_message=members[0].message[:1000],
            suggested_rule=suggest_rule(members[0], fp),
        )
        for fp, members in groups.items()
    ]
