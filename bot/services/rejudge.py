"""Re-judge stored failures when what we know changes: knowledge, links, wrong marks, flakiness.

Each stored failure is matched again (manual links, then the rules; a match a person marked
wrong is dropped) and re-classified, and every failure whose judgement moves is updated in
place and recorded with the reason. The objective, criteria, clusters, dashboard and API read
the failure rows, so they show the new judgement at once. Classification moves only where the
new knowledge says so: a failure that keeps its issue keeps known/recurred; one that gains an
issue is known or recurred by the issue's state at the failure's time; one that loses its issue
is new or persistent by the suite's history before it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.classify import FlakyPolicy, Prior, classify, letter
from bot.core.clusters import ClusterSummary, suggest_rule
from bot.core.knowledge import KnowledgeBase
from bot.core.model import Classification, Match, Outcome
from bot.ports.store import IssueState, JudgementChange, StoredFailure, UnitOfWork
from bot.services.backtest import to_failure
from bot.services.corrections import match_failures
from bot.services.verdict import replan_commit_verdicts

KNOWLEDGE, LINK, UNLINK, WRONG, FLAKY = "knowledge", "link", "unlink", "wrong", "flaky"
_BATCH = 2000
_MATCHED = (Classification.KNOWN.value, Classification.RECURRED.value)
_UNMATCHED_NEW = (Classification.NEW.value, Classification.PERSISTENT.value)


@dataclass(frozen=True, slots=True)
class RejudgeResult:
    scanned: int
    changes: tuple[JudgementChange, ...]


@dataclass(frozen=True, slots=True)
class _Context:
    kb: KnowledgeBase
    states: dict[int, IssueState]
    wrong: dict[tuple[int, str], int | None]
    policy: FlakyPolicy


def _state_when(state: IssueState | None, started: datetime) -> str | None:
    # As ingest judges it: a failure from before the issue was closed saw it open.
    if state is None:
        return None
    if state.state == "closed" and started < state.updated_at:
        return "open"
    return state.state


def _priors(uow: UnitOfWork, rows: Sequence[StoredFailure], window: int) -> dict[int, Prior]:
    """Each failure's test letters in the suite's runs before its run, oldest first.

    Two queries per run touched, not per failure: a knowledge change that unlinks thousands
    of failures reads each run's predecessors once.
    """
    by_run: dict[int, list[StoredFailure]] = {}
    for row in rows:
        by_run.setdefault(row.record.run_id, []).append(row)
    priors: dict[int, Prior] = {}
    for group in by_run.values():
        r = group[0].record
        run_ids = uow.runs.previous(
            suite=r.suite, environment=r.environment, before=r.started_at, limit=max(window - 1, 1)
        )
        seen = uow.failures.outcomes(run_ids=run_ids, nodeids={g.record.nodeid for g in group})
        for g in group:
            letters = (letter(seen[i].get(g.record.nodeid, "passed")) for i in reversed(run_ids))
            priors[g.id] = Prior("".join(letters))
    return priors


def _classification(
    ctx: _Context, row: StoredFailure, match: Match | None, priors: Mapping[int, Prior]
) -> str:
    r = row.record
    if match is not None:
        if match.issue == r.known_issue and r.classification in _MATCHED:
            return r.classification
        state = _state_when(ctx.states.get(match.issue), r.started_at)
        return classify(
            outcome=Outcome(r.outcome),
            match=match,
            issue_state=state,
            prior=Prior(),
            policy=ctx.policy,
        ).value
    if r.classification not in _MATCHED:
        return r.classification
    return classify(
        outcome=Outcome(r.outcome),
        match=None,
        issue_state=None,
        prior=priors.get(row.id, Prior()),
        policy=ctx.policy,
    ).value


def _judge(
    uow: UnitOfWork,
    ctx: _Context,
    rows: Sequence[StoredFailure],
    *,
    reason: str,
    detail: str,
    now: datetime,
) -> list[JudgementChange]:
    failures = [to_failure(r.record) for r in rows]
    matches = list(match_failures(ctx.kb, uow.links.links(), failures))
    for i, (row, found) in enumerate(zip(rows, matches, strict=True)):
        key = (row.record.run_id, row.record.nodeid)
        if found is not None and ctx.wrong.get(key, 0) == found.issue:
            matches[i] = None  # a person said this failure is not that issue
    lost = [
        row
        for row, match in zip(rows, matches, strict=True)
        if match is None and row.record.classification in _MATCHED
    ]
    priors = _priors(uow, lost, ctx.policy.window)
    changes: list[JudgementChange] = []
    for row, failure, match in zip(rows, failures, matches, strict=True):
        r = row.record
        after = (
            match.issue if match else None,
            match.rule if match else None,
            _classification(ctx, row, match, priors),
            ctx.kb.category(failure, match).value,
        )
        if after == (r.known_issue, r.rule, r.classification, r.category):
            continue
        changes.append(_change(row, after, reason=reason, detail=detail, now=now))
    return changes


def _change(
    row: StoredFailure,
    after: tuple[int | None, str | None, str, str],
    *,
    reason: str,
    detail: str,
    now: datetime,
) -> JudgementChange:
    r = row.record
    return JudgementChange(
        failure_id=row.id,
        run_id=r.run_id,
        suite=r.suite,
        nodeid=r.nodeid,
        before_issue=r.known_issue,
        before_rule=r.rule,
        before_classification=r.classification,
        before_category=r.category,
        after_issue=after[0],
        after_rule=after[1],
        after_classification=after[2],
        after_category=after[3],
        reason=reason,
        detail=detail[:500],
        at=now,
    )


def _save(
    uow: UnitOfWork, rows: Sequence[StoredFailure], changes: Sequence[JudgementChange]
) -> None:
    """Write the changes and bring the clusters of every moved fingerprint up to date."""
    if not changes:
        return
    uow.judgements.apply(changes=changes)
    by_id = {r.id: r for r in rows}
    prints: set[str] = set()
    hits: list[ClusterSummary] = []
    for c in changes:
        r = by_id[c.failure_id].record
        if c.before_issue == c.after_issue or not r.fingerprint:
            continue
        prints.add(r.fingerprint)
        if c.after_issue is None:  # the cluster row may not exist yet: make it, then recount
            hits.append(_empty_hit(by_id[c.failure_id]))
    uow.clusters.record(hits=hits)
    uow.judgements.recount_clusters(fingerprints=prints)
    # A run whose verdict was shown on its commit gets the new one there, in this transaction.
    replan_commit_verdicts(uow, {c.run_id for c in changes}, now=changes[0].at)


def _empty_hit(row: StoredFailure) -> ClusterSummary:
    r = row.record
    return ClusterSummary(
        fingerprint=r.fingerprint,
        suite=r.suite,
        first_seen=r.started_at,
        last_seen=r.started_at,
        count=0,
        runs=0,
        exception=r.exception,
        example_nodeid=r.nodeid,
        example_message=r.message[:1000],
        suggested_rule=suggest_rule(to_failure(r), r.fingerprint),
    )


def _context(uow: UnitOfWork, kb: KnowledgeBase, policy: FlakyPolicy) -> _Context:
    states = {s.number: s for s in uow.issues.all()}
    return _Context(kb=kb, states=states, wrong=uow.judgements.wrong(), policy=policy)


def rejudge(
    uow: UnitOfWork,
    kb: KnowledgeBase,
    *,
    reason: str,
    detail: str,
    now: datetime,
    policy: FlakyPolicy | None = None,
    fingerprint: str | None = None,
    keep: Callable[[StoredFailure], bool] | None = None,
) -> RejudgeResult:
    """Re-judge stored failures (of one fingerprint, or those `keep` selects, or all)."""
    ctx = _context(uow, kb, policy or FlakyPolicy())
    scanned, last = 0, 0
    changes: list[JudgementChange] = []
    while batch := uow.judgements.scan(fingerprint=fingerprint, after_id=last, limit=_BATCH):
        last = batch[-1].id
        rows = [r for r in batch if keep is None or keep(r)]
        scanned += len(rows)
        found = _judge(uow, ctx, rows, reason=reason, detail=detail, now=now)
        _save(uow, rows, found)
        changes.extend(found)
    return RejudgeResult(scanned=scanned, changes=tuple(changes))


def rejudge_target(
    uow: UnitOfWork,
    kb: KnowledgeBase,
    *,
    kind: str,
    pattern: str,
    reason: str,
    detail: str,
    now: datetime,
    policy: FlakyPolicy | None = None,
) -> RejudgeResult:
    """Re-judge the failures a manual link's pattern covers (a fingerprint or a node id glob)."""
    if kind == "fingerprint":
        return rejudge(
            uow, kb, reason=reason, detail=detail, now=now, policy=policy, fingerprint=pattern
        )
    return rejudge(
        uow,
        kb,
        reason=reason,
        detail=detail,
        now=now,
        policy=policy,
        keep=lambda r: fnmatch.fnmatchcase(r.record.nodeid, pattern),
    )


def rejudge_failure(
    uow: UnitOfWork,
    kb: KnowledgeBase,
    *,
    run_id: int,
    nodeid: str,
    reason: str,
    detail: str,
    now: datetime,
    policy: FlakyPolicy | None = None,
) -> RejudgeResult:
    """Re-judge one test's failures in one run (after a person marked its match wrong)."""
    stored = uow.runs.get(run_id=run_id)
    if stored is None:
        return RejudgeResult(scanned=0, changes=())
    rows = uow.judgements.of_tests(
        suite=stored.run.suite,
        environment=stored.run.environment,
        nodeids={nodeid},
        run_ids=[run_id],
    )
    found = _judge(
        uow, _context(uow, kb, policy or FlakyPolicy()), rows, reason=reason, detail=detail, now=now
    )
    _save(uow, rows, found)
    return RejudgeResult(scanned=len(rows), changes=tuple(found))


def rejudge_knowledge(
    uow: UnitOfWork,
    kb: KnowledgeBase,
    *,
    now: datetime,
    policy: FlakyPolicy | None = None,
    force: bool = False,
) -> RejudgeResult | None:
    """Re-judge all stored failures when the knowledge base's digest is not the judged one.

    None when history was already judged with this knowledge base (and not forced).
    """
    if not force and uow.judgements.knowledge_digest() == kb.digest:
        return None
    detail = f"knowledge base {kb.digest[:12]}"
    result = rejudge(uow, kb, reason=KNOWLEDGE, detail=detail, now=now, policy=policy)
    uow.judgements.set_knowledge_digest(digest=kb.digest, at=now, changed=len(result.changes))
    return result


def mark_flaky(
    uow: UnitOfWork,
    *,
    suite: str,
    environment: str,
    nodeids: set[str],
    before: datetime,
    now: datetime,
    policy: FlakyPolicy,
) -> list[JudgementChange]:
    """Tests just judged flaky: their new/persistent failures within the window become flaky.

    A failure of a test later judged flaky is flakiness, not a regression: its streak reset
    goes away with it.
    """
    if not nodeids:
        return []
    run_ids = uow.runs.previous(
        suite=suite, environment=environment, before=before, limit=max(policy.window - 1, 1)
    )
    rows = uow.judgements.of_tests(
        suite=suite, environment=environment, nodeids=nodeids, run_ids=run_ids
    )
    changes = [
        _change(
            row,
            (None, None, Classification.FLAKY.value, row.record.category),
            reason=FLAKY,
            detail="the test was judged flaky",
            now=now,
        )
        for row in rows
        if row.record.known_issue is None and row.record.classification in _UNMATCHED_NEW
    ]
    _save(uow, rows, changes)
    return changes
