"""Property tests: whatever the bytes, the readers return a TestRun or raise ReportError."""

from __future__ import annotations

import gzip
import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.errors import ReportError
from bot.core.model import TestRun
from bot.core.reports import read_report_bytes
from bot.core.reports.exceptions import extract

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
outcomes = st.sampled_from(["passed", "failed", "skipped", "rerun", "error", "xfailed", "x"])
phases = st.sampled_from(["setup", "call", "teardown", "???", "collect"])
longreprs = st.text() | json_values


def _read(data: bytes) -> TestRun | None:
    """Read the bytes; ReportError is an allowed answer, any other exception fails the test."""
    try:
        run = read_report_bytes(data, max_bytes=1024 * 1024)
    except ReportError as exc:
        error = exc
    else:
        assert run.tests or run.failures
        return run
    assert error.reason
    assert error.message
    assert "\n" not in error.message
    return None


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    _read(data)


@SETTINGS
@given(st.binary(max_size=2048))
def test_gzip_of_arbitrary_bytes(data: bytes) -> None:
    _read(gzip.compress(data))


@SETTINGS
@given(json_values)
def test_arbitrary_json(value: object) -> None:
    _read(json.dumps(value).encode())


stage = st.fixed_dictionaries(
    {"outcome": outcomes},
    optional={
        "duration": scalars,
        "crash": st.fixed_dictionaries({}, optional={"message": scalars}) | scalars,
        "longrepr": longreprs,
    },
)
test_item = st.fixed_dictionaries(
    {"nodeid": st.text(max_size=20), "outcome": outcomes},
    optional={"keywords": json_values, "setup": stage, "call": stage, "teardown": stage},
)
collector = st.fixed_dictionaries(
    {"nodeid": st.text(max_size=20), "outcome": outcomes}, optional={"longrepr": longreprs}
)
json_reports = st.fixed_dictionaries(
    {},
    optional={
        "created": scalars,
        "duration": scalars,
        "exitcode": scalars,
        "tests": st.lists(test_item, max_size=5) | json_values,
        "collectors": st.lists(collector, max_size=3),
    },
)


@SETTINGS
@given(json_reports)
def test_json_report_shapes(report: dict[str, Any]) -> None:
    _read(json.dumps(report).encode())


longrepr_dicts = st.fixed_dictionaries(
    {},
    optional={
        "reprcrash": json_values,
        "reprtraceback": json_values,
        "chain": st.lists(st.lists(json_values | st.text(), max_size=3), max_size=3),
        "sections": st.lists(st.lists(st.text(), max_size=3), max_size=2),
    },
)
log_record = st.fixed_dictionaries(
    {"$report_type": st.sampled_from(["TestReport", "CollectReport", "SessionFinish", "Odd"])},
    optional={
        "nodeid": st.sampled_from(["a.py::t", "a.py::u", "a.py"]),
        "when": phases,
        "outcome": outcomes,
        "longrepr": longrepr_dicts | longreprs,
        "keywords": json_values,
        "wasxfail": st.text(),
        "exitstatus": scalars,
        "start": scalars,
        "stop": scalars,
        "duration": scalars,
    },
)


@SETTINGS
@given(st.lists(log_record, max_size=8), st.booleans())
def test_report_log_shapes(records: list[dict[str, Any]], final_newline: bool) -> None:
    lines = [json.dumps({"$report_type": "SessionStart"}), *map(json.dumps, records)]
    _read(("\n".join(lines) + ("\n" if final_newline else "")).encode())


child = st.tuples(
    st.sampled_from(["failure", "error", "skipped", "system-out", "properties"]),
    st.sampled_from(["", "collection failure", 'failed on teardown with "x"', "collection skipped"])
    | st.text(max_size=30),
    st.sampled_from(["", "pytest.xfail", "pytest.skip"]),
    st.text(max_size=60),
)
testcase = st.tuples(
    st.text(max_size=20), st.text(max_size=20), st.text(max_size=6), st.lists(child, max_size=2)
)


def _testcase(classname: str, name: str, time: str, children: list[Any]) -> str:
    inner = "".join(
        f"<{tag} message={quoteattr(msg)} type={quoteattr(kind)}>{escape(text)}</{tag}>"
        for tag, msg, kind, text in children
    )
    attrs = f"classname={quoteattr(classname)} name={quoteattr(name)} time={quoteattr(time)}"
    return f"<testcase {attrs}>{inner}</testcase>"


@SETTINGS
@given(st.lists(testcase, max_size=5), st.text(max_size=30))
def test_junit_shapes(cases: list[Any], timestamp: str) -> None:
    body = "".join(_testcase(*case) for case in cases)
    suite = (
        f"<testsuites><testsuite timestamp={quoteattr(timestamp)}>{body}</testsuite></testsuites>"
    )
    _read(suite.encode())


@SETTINGS
@given(st.text(), st.text())
def test_extract_never_fails(text: str, crash: str) -> None:
    found = extract(text, crash)
    if found.exception is not None:
        assert found.chain
        assert found.chain[-1] == found.exception
