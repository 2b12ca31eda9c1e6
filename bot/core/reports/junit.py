"""Read pytest's JUnit XML (xunit1 and xunit2) with defusedxml's iterparse, clearing as it goes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from bot.core.errors import ReportError
from bot.core.model import Failure, Outcome, Phase, ReportFormat, TestResult, TestRun
from bot.core.reports.build import (
    NO_KEYWORDS,
    collect_failure,
    make_failure,
    malformed,
    no_tests,
    result,
)
from bot.core.reports.limits import ReportStream
from bot.core.reports.nodeids import nodeid as rebuild_nodeid

_ROOTS = frozenset({"testsuites", "testsuite"})
_SETUP = re.compile(r'failed on (setup|teardown) with "(.*)"\Z', re.DOTALL)
# pytest-xdist's text for a test whose worker died (phase "???"); JUnit files it as an error.
_CRASH = re.compile(r"worker '[^']*' crashed while running")
_STRICT_XPASS = "xfail-marked test passes unexpectedly"


def _error_phase(message: str, text: str) -> tuple[Phase, str]:
    """Return an <error>'s phase and the crash message inside its message attribute."""
    if _CRASH.search(text):
        return Phase.CRASH, ""
    match = _SETUP.match(message)
    if match is None:
        return Phase.SETUP, message
    return (Phase.TEARDOWN if match.group(1) == "teardown" else Phase.SETUP), match.group(2)


class _Suite:
    """Merge testcases by node id and remember the suites' timestamps and times.

    A node id has several <testcase> elements when pytest-rerunfailures ran it again (one
    empty element per earlier attempt) or when its call failed and its teardown errored.
    Only finished results are kept (one small object per test) so memory stays low.
    """

    def __init__(self) -> None:
        self.results: dict[str, TestResult] = {}
        self.case_failures: dict[str, list[Failure]] = {}
        self.collect_failures: list[Failure] = []
        self.created: datetime | None = None
        self.duration: float | None = None

    def testsuite(self, attrs: dict[str, str]) -> None:
        """Note a <testsuite>'s timestamp and time."""
        try:
            created = datetime.fromisoformat(attrs.get("timestamp", ""))
        except ValueError:
            created = None
        if created and (self.created is None or created < self.created):
            self.created = created
        if "time" in attrs:
            self.duration = (self.duration or 0.0) + _seconds(attrs["time"])

    def testcase(self, element: Element) -> None:
        """Merge one <testcase> into the result of its node id."""
        attrs = element.attrib
        nodeid = rebuild_nodeid(
            attrs.get("classname", ""), attrs.get("name", ""), attrs.get("file")
        )
        children = [child for child in element if child.tag in ("failure", "error", "skipped")]
        for child in children:
            message, text = child.get("message", ""), child.text or ""
            if child.tag == "error" and message == "collection failure":
                self.collect_failures.append(collect_failure(nodeid, text))
                return
            if child.tag == "skipped" and message == "collection skipped":
                return
        previous = self.results.get(nodeid)
        had_failures = nodeid in self.case_failures
        failures = self.case_failures.get(nodeid, [])
        outcome = Outcome.PASSED
        for child in children:
            outcome = self._child(nodeid, child, failures) or outcome
        if failures:
            self.case_failures[nodeid] = failures
        reruns, duration = 0, _seconds(attrs.get("time", "0"))
        if previous is not None:
            # An earlier attempt with nothing in it was one pytest-rerunfailures ran again.
            earlier_empty = previous.outcome in (Outcome.PASSED, Outcome.FLAKY) and not had_failures
            reruns = previous.reruns + int(earlier_empty)
            duration += previous.duration
        self.results[nodeid] = result(
            nodeid,
            outcome,
            failures=failures,
            duration=duration,
            reruns=reruns,
            keywords=NO_KEYWORDS,
        )

    def _child(self, nodeid: str, child: Element, failures: list[Failure]) -> Outcome | None:
        """Record one child of a testcase; return the outcome it implies, if any."""
        message, text = child.get("message", ""), child.text or ""
        if child.tag == "skipped":
            if message == _STRICT_XPASS:
                failures.append(make_failure(nodeid, Phase.CALL, message))
                return None
            return Outcome.XFAILED if child.get("type") == "pytest.xfail" else Outcome.SKIPPED
        if child.tag == "failure":
            phase = Phase.CRASH if _CRASH.search(text) else Phase.CALL
        else:
            phase, message = _error_phase(message, text)
        failures.append(make_failure(nodeid, phase, text, crash_message=message))
        return None

    def finish(self) -> TestRun:
        """Build the run from the merged testcases."""
        failures = self.collect_failures
        for case_failures in self.case_failures.values():
            failures.extend(case_failures)
        if not self.results and not failures:
            raise no_tests()
        return TestRun(
            format=ReportFormat.JUNIT_XML,
            tests=tuple(self.results.values()),
            failures=tuple(failures),
            created=self.created,
            duration=self.duration,
        )


def _events(stream: ReportStream) -> Any:
    """Yield iterparse's events, turning XML and defusedxml errors into ReportError."""
    try:
        yield from iterparse(stream, events=("start", "end"))
    except ParseError as exc:
        line, column = exc.position
        if str(exc).startswith(("no element found", "unclosed token")):
            raise malformed(f"truncated XML at line {line}, column {column}") from exc
        reason = str(exc).split(":", 1)[0]
        raise malformed(f"malformed XML at line {line}, column {column}: {reason}") from exc
    except DefusedXmlException as exc:
        raise malformed(
            f"XML refused: {exc!r} (entity and external declarations are unsafe)"
        ) from exc


def read_junit(stream: ReportStream) -> TestRun:
    """Parse JUnit XML; each <testcase> is dropped from the tree once merged."""
    suite = _Suite()
    stack: list[Element] = []
    for event, element in _events(stream):
        if event == "start":
            if not stack and element.tag not in _ROOTS:
                raise ReportError(
                    "unknown_format",
                    f"XML root is <{element.tag}>, not JUnit's <testsuites> or <testsuite>",
                )
            if element.tag == "testsuite":
                suite.testsuite(dict(element.attrib))
            stack.append(element)
            continue
        stack.pop()
        if element.tag == "testcase":
            suite.testcase(element)
        if stack and stack[-1].tag == "testsuite":
            element.clear()
            stack[-1].remove(element)
    return suite.finish()


def _seconds(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0
