"""The known-issue read model: every known issue with its occurrences and each rule's precision.

Runs, failures and clusters are read straight from their ports (RunRecord, FailureRecord,
ClusterSummary); the web edge turns these dataclasses into its pydantic answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.knowledge import KnowledgeBase
from bot.ports.store import UnitOfWork


@dataclass(frozen=True, slots=True)
class RulePrecision:
    rule: str
    matches: int
    wrong: int
    precision: float | None  # 1 - wrong/matches; None before any match


@dataclass(frozen=True, slots=True)
class KnownIssueItem:
    number: int
    title: str
    category: str | None
    state: str | None  # open, closed, or None when GitHub never told us
    occurrences: int
    runs: int
    last_seen: datetime | None
    rules: list[RulePrecision]


def known_issues(uow: UnitOfWork, kb: KnowledgeBase) -> list[KnownIssueItem]:
    """List every known issue (knowledge base or seen in history) with occurrences and rules."""
    stats = {s.issue: s for s in uow.reads.issue_stats()}
    states = {s.number: s for s in uow.issues.all()}
    rules: dict[int, list[RulePrecision]] = {}
    for r in uow.reads.rule_stats():
        precision = 1 - r.wrong / r.matches if r.matches else None
        rules.setdefault(r.issue, []).append(
            RulePrecision(rule=r.rule, matches=r.matches, wrong=r.wrong, precision=precision)
        )
    items = []
    for number in sorted(set(kb.issues) | set(stats)):
        issue = kb.issues.get(number)
        listed = {r.rule for r in rules.get(number, [])}
        unused = [r.id for r in issue.rules if r.id not in listed] if issue else []
        rules.setdefault(number, []).extend(
            RulePrecision(rule=rule, matches=0, wrong=0, precision=None) for rule in unused
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
