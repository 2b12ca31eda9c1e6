"""Judge a whole run for a deploy: pass, known failures only, or blocked by news."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.core.model import Category, Classification

TIMES = "\u00d7"  # the multiplication sign, as in "#1086 x6" on GitHub


class GateStatus(StrEnum):
    PASS = "pass"  # noqa: S105 (a status, not a password): no failure
    KNOWN = "known"  # every failure is a known open issue or flaky
    BLOCKED = "blocked"  # a new, recurred or persistent unknown failure


@dataclass(frozen=True, slots=True)
class JudgedFailure:
    """What the gate needs of one stored failure."""

    nodeid: str
    classification: Classification
    category: Category
    known_issue: int | None


@dataclass(frozen=True, slots=True)
class RunVerdict:
    """A run's verdict and the failures that decide it."""

    status: GateStatus
    failures: int
    known: int
    flaky: int
    known_by_issue: tuple[tuple[int, int], ...]  # (issue, failures), most failures first
    deciding: tuple[JudgedFailure, ...]  # the failures that block, empty unless blocked

    @property
    def title(self) -> str:
        """One line a person reads on a commit: what failed and whether any of it is news."""
        if self.status is GateStatus.PASS:
            return "No failures"
        parts = []
        if self.known:
            issues = ", ".join(f"#{issue} {TIMES}{n}" for issue, n in self.known_by_issue)
            parts.append(f"{self.known} known ({issues})")
        if self.flaky:
            parts.append(f"{self.flaky} flaky")
        parts.extend(_news(self.deciding))
        return f"{_plural(self.failures, 'failure')}: {', '.join(parts)}"


BLOCKING = frozenset({Classification.NEW, Classification.RECURRED, Classification.PERSISTENT})


def judge_run(failures: Iterable[JudgedFailure]) -> RunVerdict:
    """Decide a run's verdict from its classified failures (flaky passes are not failures)."""
    rows = list(failures)
    deciding = tuple(f for f in rows if f.classification in BLOCKING)
    known = [f for f in rows if f.classification is Classification.KNOWN]
    by_issue = Counter(f.known_issue for f in known if f.known_issue is not None)
    if not rows:
        status = GateStatus.PASS
    elif deciding:
        status = GateStatus.BLOCKED
    else:
        status = GateStatus.KNOWN
    return RunVerdict(
        status=status,
        failures=len(rows),
        known=len(known),
        flaky=sum(1 for f in rows if f.classification is Classification.FLAKY),
        known_by_issue=tuple(sorted(by_issue.items(), key=lambda kv: (-kv[1], kv[0]))),
        deciding=deciding,
    )


def _news(deciding: tuple[JudgedFailure, ...]) -> list[str]:
    """Group the blocking failures as '1 new infrastructure failure', '2 persistent product …'."""
    groups = Counter((f.classification.value, f.category.value) for f in deciding)
    order = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    return [f"{n} {kind} {category} {_noun(n, 'failure')}" for (kind, category), n in order]


def _noun(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def _plural(n: int, word: str) -> str:
    return f"{n} {_noun(n, word)}"


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One run of a suite as the suspect range sees it."""

    run_id: int
    commit: str | None
    failed: bool  # the test failed in this run


@dataclass(frozen=True, slots=True)
class SuspectRange:
    """Where a failure started: the last run the test passed, the first it failed."""

    nodeid: str
    first_failed_run: int
    first_failed_commit: str | None
    last_passed_run: int | None  # None: no passing run within the history looked at
    last_passed_commit: str | None


def suspect_range(nodeid: str, points: Iterable[RunPoint]) -> SuspectRange | None:
    """Walk a test's runs newest first (this run first) back to the last run it passed in.

    Runs come ordered by their own start times, so late and out-of-order uploads land where
    they ran. None when the test did not fail in the first (newest) run given.
    """
    first: RunPoint | None = None
    for point in points:
        if not point.failed:
            if first is None:
                return None
            return SuspectRange(nodeid, first.run_id, first.commit, point.run_id, point.commit)
        first = point
    if first is None:
        return None
    return SuspectRange(nodeid, first.run_id, first.commit, None, None)
