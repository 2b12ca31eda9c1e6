"""Classify failures against a suite's history: known, recurred, flaky, new or persistent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from bot.core.model import Category, Classification, Match, Outcome

# History letters, one per run of a test: passed, failed, flaky (passed on rerun), other.
PASSED, FAILED, FLAKY, OTHER = "P", "F", "K", "S"
_LETTERS = {
    Outcome.PASSED: PASSED,
    Outcome.XFAILED: PASSED,
    Outcome.FAILED: FAILED,
    Outcome.ERROR: FAILED,
    Outcome.XPASSED: FAILED,
    Outcome.FLAKY: FLAKY,
}


def letter(outcome: Outcome | str) -> str:
    """Map an outcome to its history letter."""
    try:
        return _LETTERS.get(Outcome(outcome), OTHER)
    except ValueError:
        return OTHER


def count_flips(letters: str) -> int:
    """Count pass/fail changes; a flaky pass failed first, so it counts as a failure."""
    states = [ch == PASSED for ch in letters if ch in (PASSED, FAILED, FLAKY)]
    return sum(1 for a, b in pairwise(states) if a != b)


@dataclass(frozen=True, slots=True)
class Prior:
    """A test's history before this run: letters of the suite's recent runs, oldest first.

    The last letter is the suite's previous run; "P" there also stands for "did not run".
    """

    recent: str = ""

    @property
    def failed_before(self) -> bool:
        return self.recent[-1:] == FAILED


@dataclass(frozen=True, slots=True)
class FlakyPolicy:
    flips: int = 3
    window: int = 10


def classify(
    *,
    outcome: Outcome,
    match: Match | None,
    issue_state: str | None,
    prior: Prior,
    policy: FlakyPolicy,
) -> Classification:
    """Classify one failure (or flaky pass) of this run; issue_state is "open", "closed" or None."""
    if outcome is Outcome.FLAKY:
        return Classification.FLAKY
    if match is not None:
        return Classification.RECURRED if issue_state == "closed" else Classification.KNOWN
    window = prior.recent[-(policy.window - 1) :] if policy.window > 1 else ""
    if count_flips(window + FAILED) >= policy.flips:
        return Classification.FLAKY
    return Classification.PERSISTENT if prior.failed_before else Classification.NEW


def is_regression(classification: Classification | str, category: Category | str) -> bool:
    """Say whether a classified failure is an infrastructure regression."""
    return classification in (Classification.NEW, Classification.RECURRED) and (
        category == Category.INFRASTRUCTURE
    )


@dataclass(frozen=True, slots=True)
class FailureVerdict:
    """One classified failure of a run, as the summary and the API show it."""

    nodeid: str
    phase: str
    outcome: str
    exception: str | None
    fingerprint: str
    known_issue: int | None
    rule: str | None
    classification: Classification
    category: Category


@dataclass(frozen=True, slots=True)
class RunRegression:
    nodeid: str
    phase: str
    classification: Classification
    exception: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Counts per outcome, classification and known issue, and the infrastructure regressions."""

    outcomes: dict[str, int]
    classifications: dict[str, int]
    known_issues: dict[int, int]
    regressions: tuple[RunRegression, ...] = field(default=())


def summarise(outcomes: Mapping[str, int], verdicts: Iterable[FailureVerdict]) -> RunSummary:
    """Summarise a run's classified failures."""
    classes: Counter[str] = Counter()
    issues: Counter[int] = Counter()
    regressions: list[RunRegression] = []
    for v in verdicts:
        classes[v.classification.value] += 1
        if v.known_issue is not None:
            issues[v.known_issue] += 1
        if is_regression(v.classification, v.category):
            regressions.append(
                RunRegression(v.nodeid, v.phase, v.classification, v.exception, v.fingerprint)
            )
    return RunSummary(
        outcomes=dict(outcomes),
        classifications={c.value: classes.get(c.value, 0) for c in Classification},
        known_issues=dict(sorted(issues.items())),
        regressions=tuple(regressions),
    )
