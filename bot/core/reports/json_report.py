"""Read a pytest-json-report report, streaming its `tests` and `collectors` arrays with ijson."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import ijson  # type: ignore[import-untyped]

from bot.core.errors import ReportError
from bot.core.model import Failure, Outcome, ReportFormat, TestResult, TestRun
from bot.core.reports.build import (
    NO_TESTS,
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

MAX_DEPTH = 64  # json-report nests 5 levels deep; a deeper document is an attack or junk
_ITEM_KEYS = ("tests", "collectors")
_REPORT_KEYS = frozenset({"tests", "collectors", "exitcode", "summary"})
BUF_SIZE = 64 * 1024
try:  # yajl's C backend builds whole objects in C; the pure-Python one is ~10x slower
    _IJSON: Any = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - the wheels ship it for every supported platform
    _IJSON = ijson
OUTCOMES = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "error": Outcome.ERROR,
    "skipped": Outcome.SKIPPED,
    "xfailed": Outcome.XFAILED,
    "xpassed": Outcome.XPASSED,
    # pytest-rerunfailures leaves "rerun" on a test that passed on a later attempt.
    "rerun": Outcome.PASSED,
}


class _Run:
    """Collect tests, failures and the top-level fields while the parser streams."""

    def __init__(self) -> None:
        self.tests: list[TestResult] = []
        self.failures: list[Failure] = []
        self.top: dict[str, Any] = {}
        self.keys: set[str] = set()

    def add(self, key: str, item: object) -> None:
        """Add one element of the `tests` or `collectors` array."""
        if not isinstance(item, dict):
            raise malformed(f"an element of '{key}' is not an object")
        _check_depth(item, 2)
        if key == "tests":
            self._add_test(item)
        elif item.get("outcome") == "failed":
            self.failures.append(collect_failure(_nodeid(item, key), _text(item.get("longrepr"))))

    def _add_test(self, item: dict[str, Any]) -> None:
        nodeid = _nodeid(item, "tests")
        listed = item.get("keywords")
        keywords = keyword_set(listed if isinstance(listed, list) else ())
        raw = item.get("outcome")
        if raw not in OUTCOMES:
            raise malformed(f"test {nodeid!r} has an unknown outcome {raw!r}")
        failures: list[Failure] = []
        duration = 0.0
        for key, phase in PHASES.items():
            stage = item.get(key)
            if stage is None:
                continue
            if not isinstance(stage, dict):
                raise malformed(f"test {nodeid!r}: '{key}' is not an object")
            duration += _number(stage.get("duration"))
            if stage.get("outcome") == "failed":
                crash = stage.get("crash")
                crash_message = _text(crash.get("message")) if isinstance(crash, dict) else ""
                text = _text(stage.get("longrepr"))
                failures.append(
                    make_failure(
                        nodeid, phase, text, crash_message=crash_message, keywords=keywords
                    )
                )
        # The report keeps only the last attempt, so how many reruns there were is unknown.
        reruns = 1 if raw == "rerun" else 0
        self.tests.append(
            result(
                nodeid,
                OUTCOMES[raw],
                failures=failures,
                duration=duration,
                reruns=reruns,
                keywords=keywords,
            )
        )
        self.failures.extend(failures)

    def finish(self) -> TestRun:
        """Check the report was a json-report one and had something in it."""
        if not self.keys & _REPORT_KEYS:
            raise ReportError(
                "unknown_format",
                "JSON object is not a pytest-json-report report "
                "(no 'tests', 'collectors', 'summary' or 'exitcode' key)",
            )
        if not self.tests and not self.failures:
            if "tests" not in self.keys:
                raise ReportError("no_tests", f"{NO_TESTS} (written with --json-report-summary?)")
            raise no_tests()
        created = self.top.get("created")
        exitcode = self.top.get("exitcode")
        duration = self.top.get("duration")
        return TestRun(
            format=ReportFormat.JSON_REPORT,
            tests=tuple(self.tests),
            failures=tuple(self.failures),
            created=_timestamp(created),
            duration=float(duration) if isinstance(duration, int | float) else None,
            exitcode=exitcode
            if isinstance(exitcode, int) and not isinstance(exitcode, bool)
            else None,
        )


class _Feed:
    """The report's bytes for yajl; before each read, hand the finished array items on.

    yajl's C builder fills the top-level object as it parses. Between two reads, every element
    of `tests` and `collectors` but the last is complete: those are converted and dropped, so
    memory holds one buffer of objects, not the whole report.
    """

    def __init__(self, stream: ReportStream, run: _Run) -> None:
        self.stream, self.run = stream, run
        self.root: dict[str, Any] = {}

    def read(self, size: int) -> bytes:
        self.drain(final=False)
        return self.stream.read(size)

    def drain(self, *, final: bool) -> None:
        """Convert the finished items; drop finished elements of other top-level arrays."""
        _check_depth(self.root, 0)  # the path being built, before it can grow further
        for key, value in list(self.root.items()):  # document order: failures keep it
            if key in _ITEM_KEYS and not isinstance(value, list):
                raise malformed(f"'{key}' is not a list")
            if not isinstance(value, list) or (len(value) < 2 and not final):
                continue
            done = len(value) if final else len(value) - 1
            if key in _ITEM_KEYS:
                for item in value[:done]:
                    self.run.add(key, item)
            del value[:done]


def read_json_report(stream: ReportStream) -> TestRun:
    """Parse a pytest-json-report document, holding only the tests of one read buffer."""
    run = _Run()
    feed = _Feed(stream, run)
    # The first map yajl builds is the document itself: keep it to drain it while parsing.
    maps = itertools.chain([feed.root], iter(dict, None)).__next__
    try:
        for _ in _IJSON.items(feed, "", map_type=maps, use_float=True, buf_size=BUF_SIZE):
            pass
    except ijson.JSONError as exc:
        reason = str(exc).split("\n", 1)[0].strip()
        if "premature EOF" in reason:
            raise malformed(f"truncated JSON at byte {stream.offset}") from exc
        raise malformed(f"malformed JSON before byte {stream.offset}: {reason}") from exc
    feed.drain(final=True)
    run.keys.update(feed.root)
    for key in ("created", "duration", "exitcode"):
        run.top[key] = feed.root.get(key)
    return run.finish()


def _check_depth(value: object, depth: int) -> None:
    """Follow the last element at each level (where yajl is building) down to MAX_DEPTH."""
    while isinstance(value, dict | list):
        depth += 1
        if depth > MAX_DEPTH:
            raise malformed(f"JSON nested deeper than {MAX_DEPTH} levels")
        if not value:
            return
        value = value[-1] if isinstance(value, list) else next(reversed(value.values()))


def _nodeid(item: dict[str, Any], key: str) -> str:
    nodeid = item.get("nodeid")
    if not isinstance(nodeid, str):
        raise malformed(f"an element of '{key}' has no string 'nodeid'")
    return clean(nodeid)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
