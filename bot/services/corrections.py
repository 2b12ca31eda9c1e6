"""People's corrections: manual links, wrong-match reports and known issues' GitHub state."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase
from bot.core.model import Category, Failure, Match, Outcome
from bot.core.signature import fingerprint
from bot.ports.store import IssueState, ManualLinkRecord, UnitOfWork

FINGERPRINT = re.compile(r"[0-9a-f]{16}")
MAX_PATTERN = 500


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    issue: int
    kind: str  # glob or fingerprint
    pattern: str
    created: bool  # False when an existing link was re-pointed or removed nothing


@dataclass(frozen=True, slots=True)
class WrongMatchOutcome:
    run_id: int
    nodeid: str
    issue: int | None
    rule: str | None
    created: bool


def match_failures(
    kb: KnowledgeBase, links: Sequence[ManualLinkRecord], failures: Sequence[Failure]
) -> list[Match | None]:
    """Match each failure: manual links (fingerprint, then node id glob) first, then the rules."""
    by_print = {lk.pattern: lk for lk in links if lk.kind == "fingerprint"}
    globs = [lk for lk in links if lk.kind == "glob"]
    found = list(kb.match_many(failures))
    for i, failure in enumerate(failures):
        if failure.outcome is Outcome.FLAKY:
            found[i] = None
            continue
        link = by_print.get(fingerprint(failure)) if by_print else None
        if link is None:
            link = next((g for g in globs if fnmatch.fnmatchcase(failure.nodeid, g.pattern)), None)
        if link is not None:
            issue = kb.issues.get(link.issue)
            category = issue.category if issue is not None else Category.PRODUCT
            found[i] = Match(issue=link.issue, rule=f"manual#{link.id}", category=category)
    return found


def parse_target(target: str) -> tuple[str, str]:
    """Tell a fingerprint (16 hex digits) from a node id glob; reject empty or odd patterns."""
    pattern = target.strip()
    if not pattern or len(pattern) > MAX_PATTERN or any(ch.isspace() for ch in pattern):
        raise TriageError(
            "bad_pattern",
            f"give a node id glob or a fingerprint: 1 to {MAX_PATTERN} characters, no spaces",
        )
    return ("fingerprint" if FINGERPRINT.fullmatch(pattern) else "glob"), pattern


def link(uow: UnitOfWork, *, issue: int, target: str, by: str, now: datetime) -> LinkOutcome:
    """Link failures whose node id matches a glob, or with a fingerprint, to a known issue."""
    if issue <= 0:
        raise TriageError("bad_issue", "issue number must be positive")
    kind, pattern = parse_target(target)
    created = uow.links.add_link(issue=issue, kind=kind, pattern=pattern, created_by=by, at=now)
    return LinkOutcome(issue=issue, kind=kind, pattern=pattern, created=created)


def unlink(uow: UnitOfWork, *, target: str) -> LinkOutcome | None:
    """Remove a manual link; None when there was none."""
    kind, pattern = parse_target(target)
    existing = next(
        (lk for lk in uow.links.links() if lk.kind == kind and lk.pattern == pattern), None
    )
    if existing is None or not uow.links.remove_link(kind=kind, pattern=pattern):
        return None
    return LinkOutcome(issue=existing.issue, kind=kind, pattern=pattern, created=False)


def record_wrong_match(
    uow: UnitOfWork, *, run_id: int, nodeid: str, reported_by: str, now: datetime
) -> WrongMatchOutcome:
    """Record that a stored failure was linked to the wrong issue (lowers its rule's precision)."""
    if uow.runs.get(run_id=run_id) is None:
        raise TriageError("not_found", f"run {run_id} does not exist")
    rows = [r for r in uow.failures.for_run(run_id=run_id) if r.nodeid == nodeid]
    if not rows:
        raise TriageError("not_found", f"run {run_id} has no failure of {nodeid}")
    matched = next((r for r in rows if r.known_issue is not None), rows[0])
    created = uow.links.add_wrong_match(
        run_id=run_id,
        nodeid=nodeid,
        issue=matched.known_issue,
        rule=matched.rule,
        reported_by=reported_by,
        at=now,
    )
    return WrongMatchOutcome(run_id, nodeid, matched.known_issue, matched.rule, created)


def set_issue_state(
    uow: UnitOfWork,
    *,
    number: int,
    state: str,
    title: str = "",
    state_reason: str | None = None,
    updated_at: datetime,
) -> None:
    """Store a known issue's GitHub state (from the `issues` webhook); older news is ignored."""
    if state not in ("open", "closed"):
        raise TriageError("bad_state", f"issue state must be open or closed, not {state!r}")
    uow.issues.set(
        state=IssueState(
            number=number,
            state=state,
            title=title[:500],
            state_reason=state_reason,
            updated_at=updated_at,
        )
    )
