"""Read a pytest-json-report report, streaming its `tests` and `collectors` arrays with ijson."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import ijson  # type: ignore[import-untyped]
from ijson.common import ObjectBuilder  # type: ignore[import-untyped]

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
_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})
_ITEM_KEYS = frozenset({"tests", "collectors"})
_REPORT_KEYS = frozenset({"tests", "collectors", "exitcode", "summary"})
_SCALAR_KEYS = frozenset({"created", "duration", "exitcode"})
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


def _events(stream: ReportStream) -> Iterator[tuple[str, Any]]:
    """Yield ijson's parse events, turning its errors into ReportError."""
    try:
        yield from ijson.basic_parse(stream, use_float=True)
    except ijson.JSONError as exc:
        reason = str(exc).split("\n", 1)[0].strip()
        if "premature EOF" in reason:
            raise malformed(f"truncated JSON at byte {stream.offset}") from exc
        raise malformed(f"malformed JSON before byte {stream.offset}: {reason}") from exc


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


def read_json_report(stream: ReportStream) -> TestRun:
    """Parse a pytest-json-report document; only one test is held in memory at a time."""
    run = _Run()
    depth = 0
    key = ""
    in_items = False
    builder: Any = None
    for event, value in _events(stream):
        if event in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise malformed(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif event in _CLOSE:
            depth -= 1
        if builder is not None:
            builder.event(event, value)
            if depth == 2:
                run.add(key, builder.value)
                builder = None
        elif depth == 1:
            key, in_items = _top_level(run, key, in_items, event, value)
        elif depth == 2 and key in _ITEM_KEYS and not in_items:
            if event != "start_array":
                raise malformed(f"'{key}' is not a list")
            in_items = True
        elif in_items and depth == 3 and event in _OPEN:
            builder = ObjectBuilder()
            builder.event(event, value)
        elif in_items and depth == 2:
            raise malformed(f"an element of '{key}' is not an object")
    return run.finish()


def _top_level(run: _Run, key: str, in_items: bool, event: str, value: Any) -> tuple[str, bool]:
    """Handle an event of the top-level object; return the current key and array state."""
    if event == "map_key":
        run.keys.add(value)
        return value, False
    if event in _CLOSE:
        return key, False
    if key in _ITEM_KEYS:
        raise malformed(f"'{key}' is not a list")
    if key in _SCALAR_KEYS:
        run.top[key] = value
    return key, in_items


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
