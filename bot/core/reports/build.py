"""Shared steps of every reader: failures from text, final outcomes, keyword sets."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from bot.core.errors import ReportError
from bot.core.model import Failure, Outcome, Phase, TestResult
from bot.core.reports.exceptions import extract

PHASES = {"setup": Phase.SETUP, "call": Phase.CALL, "teardown": Phase.TEARDOWN, "???": Phase.CRASH}
NO_TESTS = "report has no tests and no collection errors"
# One shared empty set: CPython makes a new 216-byte object for every frozenset() call.
NO_KEYWORDS: frozenset[str] = frozenset()
REPLACEMENT = "\ufffd"


def clean(text: str) -> str:
    """Replace NUL characters, which PostgreSQL text cannot hold, with U+FFFD."""
    return text.replace("\x00", REPLACEMENT) if "\x00" in text else text


def make_failure(
    nodeid: str,
    phase: Phase,
    text: str,
    *,
    crash_message: str = "",
    keywords: frozenset[str] = NO_KEYWORDS,
) -> Failure:
    """Build the failure of one phase from its longrepr text."""
    text = clean(text)
    found = extract(text, clean(crash_message))
    return Failure(
        nodeid=clean(nodeid),
        phase=phase,
        outcome=Outcome.FAILED if phase is Phase.CALL else Outcome.ERROR,
        exception=found.exception,
        chain=found.chain,
        message=found.message,
        text=text,
        keywords=keywords,
    )


def collect_failure(nodeid: str, text: str) -> Failure:
    """Build the failure of a collector that could not be collected (an import error...)."""
    return make_failure(nodeid, Phase.COLLECT, text)


def failed_outcome(failures: Iterable[Failure]) -> Outcome | None:
    """Return ERROR if a phase other than call failed, FAILED if only call did, else None."""
    outcome = None
    for failure in failures:
        if failure.phase is not Phase.CALL:
            return Outcome.ERROR
        outcome = Outcome.FAILED
    return outcome


def result(
    nodeid: str,
    outcome: Outcome,
    *,
    failures: list[Failure],
    duration: float,
    reruns: int,
    keywords: frozenset[str],
) -> TestResult:
    """Build a test's result: failed phases decide first, a pass after reruns is flaky."""
    outcome = failed_outcome(failures) or outcome
    if reruns and outcome is Outcome.PASSED:
        outcome = Outcome.FLAKY
    return TestResult(clean(nodeid), outcome, duration=duration, reruns=reruns, keywords=keywords)


def keyword_set(names: Iterable[object]) -> frozenset[str]:
    """Keep the non-empty string keywords, interned: the same few names repeat in every test."""
    kept = [name for name in names if isinstance(name, str) and name]
    if any("\x00" in name for name in kept):
        kept = [clean(name) for name in kept]
    return frozenset(map(sys.intern, kept)) if kept else NO_KEYWORDS


def malformed(what: str) -> ReportError:
    """Build the error for a report whose structure is wrong."""
    return ReportError("malformed", what)


def no_tests() -> ReportError:
    """Build the error for a report with nothing in it."""
    return ReportError("no_tests", NO_TESTS)
