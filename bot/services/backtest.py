"""Backtest a knowledge base: replay stored failures and list the matches that would change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from bot.core.knowledge import KnowledgeBase
from bot.core.model import Failure, Outcome, Phase
from bot.ports.store import FailureRecord, UnitOfWork
from bot.services.corrections import match_failures

NEW_MATCH, LOST_MATCH, CHANGED_ISSUE = "new_match", "lost_match", "changed_issue"
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # new_match, lost_match or changed_issue
    run_id: int
    nodeid: str
    phase: str
    fingerprint: str
    before_issue: int | None
    before_rule: str | None
    after_issue: int | None
    after_rule: str | None


@dataclass(frozen=True, slots=True)
class BacktestResult:
    replayed: int
    counts: dict[str, int]
    changes: tuple[Change, ...] = field(default=())


def to_failure(record: FailureRecord) -> Failure:
    """Rebuild a failure from its stored row (message and a text excerpt are kept for this)."""
    try:
        phase = Phase(record.phase)
        outcome = Outcome(record.outcome)
    except ValueError:
        phase, outcome = Phase.CALL, Outcome.FAILED
    return Failure(
        nodeid=record.nodeid,
        phase=phase,
        outcome=outcome,
        exception=record.exception,
        chain=record.chain,
        message=record.message,
        text=record.text,
        keywords=frozenset(record.keywords),
    )


def _batches(records: Iterator[FailureRecord]) -> Iterator[list[FailureRecord]]:
    while batch := list(islice(records, _BATCH)):
        yield batch


def _kind(before: int | None, after: int | None) -> str | None:
    if before == after:
        return None
    if before is None:
        return NEW_MATCH
    return LOST_MATCH if after is None else CHANGED_ISSUE


def backtest(
    uow: UnitOfWork, kb: KnowledgeBase, *, since: datetime | None = None, max_changes: int = 1000
) -> BacktestResult:
    """Match every stored failure against `kb` (manual links apply too) and diff the issues."""
    links = uow.links.links()
    counts: Counter[str] = Counter()
    changes: list[Change] = []
    replayed = 0
    for batch in _batches(uow.failures.replay(since=since)):
        replayed += len(batch)
        matches = match_failures(kb, links, [to_failure(r) for r in batch])
        for record, match in zip(batch, matches, strict=True):
            after = match.issue if match else None
            kind = _kind(record.known_issue, after)
            if kind is None:
                continue
            counts[kind] += 1
            if len(changes) < max_changes:
                changes.append(
                    Change(
                        kind=kind,
                        run_id=record.run_id,
                        nodeid=record.nodeid,
                        phase=record.phase,
                        fingerprint=record.fingerprint,
                        before_issue=record.known_issue,
                        before_rule=record.rule,
                        after_issue=after,
                        after_rule=match.rule if match else None,
                    )
                )
    full = {k: counts.get(k, 0) for k in (NEW_MATCH, LOST_MATCH, CHANGED_ISSUE)}
    return BacktestResult(replayed=replayed, counts=full, changes=tuple(changes))
