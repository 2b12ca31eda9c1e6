"""Typed domain objects every layer shares: a parsed run, its results and failures, matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Phase(StrEnum):
    """Where in pytest's protocol a result was produced."""

    COLLECT = "collect"
    SETUP = "setup"
    CALL = "call"
    TEARDOWN = "teardown"
    # pytest-xdist reports a crashed worker's test with the phase "???".
    CRASH = "???"


class Outcome(StrEnum):
    """A test's final outcome, the same whatever report format it was read from."""

    PASSED = "passed"
    FAILED = "failed"  # the call phase failed
    ERROR = "error"  # setup, teardown, collection or a worker crash failed
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"
    # Failed at least once, then passed on a pytest-rerunfailures rerun: not a failure.
    FLAKY = "flaky"


class ReportFormat(StrEnum):
    JSON_REPORT = "pytest-json-report"
    REPORT_LOG = "pytest-reportlog"
    JUNIT_XML = "junit-xml"


class Category(StrEnum):
    INFRASTRUCTURE = "infrastructure"
    PRODUCT = "product"


class Classification(StrEnum):
    KNOWN = "known"
    RECURRED = "recurred"
    FLAKY = "flaky"
    NEW = "new"
    PERSISTENT = "persistent"


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed phase of one test (or one failed collector)."""

    nodeid: str
    phase: Phase
    outcome: Outcome
    # Fully qualified as written in the report (e.g. "redis.exceptions.ConnectionError"),
    # None when pytest printed no exception (fixture lookup errors, some collection errors).
    exception: str | None
    # Types of every exception in the chain, outermost cause first, the raised one last.
    chain: tuple[str, ...]
    message: str  # the one-line crash message (first line of the exception)
    text: str  # the full longrepr text
    keywords: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test item's final state across its phases and rerun attempts."""

    __test__ = False  # not a pytest test class, despite the name

    nodeid: str
    outcome: Outcome
    duration: float = 0.0
    reruns: int = 0
    keywords: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TestRun:
    """A parsed report: every test's result and every failure, format independent."""

    __test__ = False

    format: ReportFormat
    tests: tuple[TestResult, ...]
    failures: tuple[Failure, ...]
    created: datetime | None = None
    duration: float | None = None
    exitcode: int | None = None

    def counts(self) -> dict[str, int]:
        """Count tests per outcome; failed collectors count as errors."""
        counts: dict[str, int] = {}
        for test in self.tests:
            counts[test.outcome.value] = counts.get(test.outcome.value, 0) + 1
        collect_errors = sum(1 for f in self.failures if f.phase is Phase.COLLECT)
        if collect_errors:
            counts[Outcome.ERROR.value] = counts.get(Outcome.ERROR.value, 0) + collect_errors
        return counts


@dataclass(frozen=True, slots=True)
class Match:
    """A failure linked to a known issue by one rule."""

    issue: int
    rule: str  # "<issue file stem>#<rule id>", stable across reloads
    category: Category
    # Other issues whose rules also claimed the failure and lost to this one.
    ambiguous_with: tuple[int, ...] = field(default=())
