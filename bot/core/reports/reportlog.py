"""Read a pytest-reportlog JSON-lines log, one line at a time, merging phases and rerun attempts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.model import Failure, Outcome, Phase, ReportFormat, TestResult, TestRun
from bot.core.reports.build import (
    PHASES,
    clean,
    collect_failure,
    keyword_set,
    make_failure,
    malformed,
    no_tests,
    result,
)
from bot.core.reports.limits import ReportStream
from bot.core.reports.longrepr import render


@dataclass(slots=True)
class _Pending:
    """A test whose reports are still arriving."""

    keywords: frozenset[str]
    outcome: Outcome = Outcome.PASSED
    failures: list[Failure] = field(default_factory=list)
    duration: float = 0.0
    reruns: int = 0
    rerun_attempt: bool = False


def _lines(stream: ReportStream) -> Iterator[tuple[int, int, bytes]]:
    """Yield (line number, byte offset, line) for every non-blank line."""
    pieces: list[bytes] = []
    offset = 0
    number = 0
    for chunk in stream.chunks():
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            pieces.append(chunk[start:end])
            line = b"".join(pieces)
            pieces = []
            number += 1
            if line.strip():
                yield number, offset, line
            offset += len(line) + 1
            start = end + 1
        pieces.append(chunk[start:])
    last = b"".join(pieces)
    if last.strip():
        yield number + 1, -offset - 1, last  # a negative offset marks a last line without "\n"


def _record(number: int, offset: int, line: bytes) -> dict[str, Any]:
    """Parse one line into a record with a $report_type."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        if offset < 0:
            raise malformed(f"truncated JSON on line {number} at byte {-offset - 1}") from exc
        raise malformed(f"malformed JSON on line {number} (byte {offset}): {exc}") from exc
    if not isinstance(record, dict) or not isinstance(record.get("$report_type"), str):
        raise malformed(f"line {number} is not a report-log record (no '$report_type')")
    return record


class _Log:
    """Merge TestReport records into results as each test's last teardown arrives."""

    def __init__(self) -> None:
        self.tests: list[TestResult] = []
        self.failures: list[Failure] = []
        self.pending: dict[str, _Pending] = {}
        self.exitcode: int | None = None
        self.start: float | None = None
        self.stop: float | None = None

    def add(self, number: int, record: dict[str, Any]) -> None:
        """Take one record; unknown record types are ignored, as the log's README asks."""
        kind = record["$report_type"]
        if kind == "TestReport":
            self._test_report(number, record)
        elif kind == "CollectReport" and record.get("outcome") == "failed":
            text, _ = render(record.get("longrepr"))
            self.failures.append(collect_failure(_nodeid(number, record), text))
        elif kind == "SessionFinish" and type(record.get("exitstatus")) is int:
            self.exitcode = record["exitstatus"]

    def _test_report(self, number: int, record: dict[str, Any]) -> None:
        nodeid = _nodeid(number, record)
        when = record.get("when")
        phase = PHASES.get(when) if isinstance(when, str) else None
        if phase is None:
            raise malformed(f"line {number}: unknown phase {record.get('when')!r}")
        state = self.pending.get(nodeid)
        if state is None or phase is Phase.SETUP:
            reruns = state.reruns if state else 0
            state = _Pending(keyword_set(_dict(record.get("keywords"))), reruns=reruns)
            self.pending[nodeid] = state
        self._times(record)
        state.duration += _number(record.get("duration"))
        self._apply(nodeid, phase, record, state)
        if phase is Phase.TEARDOWN and state.rerun_attempt:
            state.reruns += 1  # pytest-rerunfailures will run the test again
        elif phase in (Phase.TEARDOWN, Phase.CRASH):
            self._finish(nodeid)

    def _apply(self, nodeid: str, phase: Phase, record: dict[str, Any], state: _Pending) -> None:
        outcome = record.get("outcome")
        xfail = "wasxfail" in record
        if outcome == "rerun":
            state.rerun_attempt = True
        elif outcome == "failed":
            text, crash = render(record.get("longrepr"))
            failure = make_failure(
                nodeid, phase, text, crash_message=crash, keywords=state.keywords
            )
            state.failures.append(failure)
        elif outcome == "skipped":
            state.outcome = Outcome.XFAILED if xfail else Outcome.SKIPPED
        elif outcome == "passed" and xfail and phase is Phase.CALL:
            state.outcome = Outcome.XPASSED

    def _finish(self, nodeid: str) -> None:
        state = self.pending.pop(nodeid)
        self.tests.append(
            result(
                nodeid,
                state.outcome,
                failures=state.failures,
                duration=state.duration,
                reruns=state.reruns,
                keywords=state.keywords,
            )
        )
        self.failures.extend(state.failures)

    def _times(self, record: dict[str, Any]) -> None:
        start, stop = _number(record.get("start")), _number(record.get("stop"))
        if start and (self.start is None or start < self.start):
            self.start = start
        if stop and (self.stop is None or stop > self.stop):
            self.stop = stop

    def finish(self) -> TestRun:
        """Close tests whose teardown never came (a crash) and build the run."""
        for nodeid in list(self.pending):
            self._finish(nodeid)
        if not self.tests and not self.failures:
            raise no_tests()
        created = None
        if self.start is not None:
            try:
                created = datetime.fromtimestamp(self.start, tz=UTC)
            except (OverflowError, OSError, ValueError):
                created = None
        span = self.stop - self.start if self.start is not None and self.stop else None
        return TestRun(
            format=ReportFormat.REPORT_LOG,
            tests=tuple(self.tests),
            failures=tuple(self.failures),
            created=created,
            duration=span,
            exitcode=self.exitcode,
        )


def read_reportlog(stream: ReportStream) -> TestRun:
    """Parse a report log; memory holds only the tests whose teardown has not arrived yet."""
    log = _Log()
    for number, offset, line in _lines(stream):
        log.add(number, _record(number, offset, line))
    return log.finish()


def _nodeid(number: int, record: dict[str, Any]) -> str:
    nodeid = record.get("nodeid")
    if not isinstance(nodeid, str):
        raise malformed(f"line {number}: record has no string 'nodeid'")
    return clean(nodeid)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
