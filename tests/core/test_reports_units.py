"""The readers' parts on their own: text extraction, node ids, longrepr rendering, streaming."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from bot.core.errors import ReportError
from bot.core.model import Outcome, Phase, ReportFormat
from bot.core.reports import read_report, read_report_bytes
from bot.core.reports.detect import detect
from bot.core.reports.exceptions import extract
from bot.core.reports.limits import ReportStream
from bot.core.reports.longrepr import render
from bot.core.reports.nodeids import nodeid

NATIVE = """Traceback (most recent call last):
  File "/src/test_a.py", line 3, in test_x
    raise KeyError("k")
KeyError: 'k'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/src/test_a.py", line 5, in test_x
    raise psycopg.OperationalError("no")
psycopg.OperationalError: connection failed
second line"""

SHORT = """test_a.py:16: in test_x
    assert 1 == 2
E   assert 1 == 2"""

SYNTAX = """test_b.py:1: in <module>
E     File "/src/test_b.py", line 1
E       def f(:
E             ^
E   SyntaxError: invalid syntax"""


@pytest.mark.parametrize(
    ("text", "crash", "exception", "chain", "message"),
    [
        (
            NATIVE,
            "",
            "psycopg.OperationalError",
            ("KeyError", "psycopg.OperationalError"),
            "psycopg.OperationalError: connection failed\nsecond line",
        ),
        (SHORT, "", "AssertionError", ("AssertionError",), "assert 1 == 2"),
        (
            "E   something odd\n\ntest_a.py:3: CustomError\n",
            "",
            "CustomError",
            ("CustomError",),
            "something odd",
        ),
        (
            "test_a.py:16: assert 1 == 2",
            "assert 1 == 2",
            "AssertionError",
            ("AssertionError",),
            "assert 1 == 2",
        ),
        ("", "ValueError: v", "ValueError", ("ValueError",), "ValueError: v"),
        ("", "", None, (), ""),
        ("[XPASS(strict)] fixed?", "", None, (), "[XPASS(strict)] fixed?"),
        ("[gw0] linux\nworker 'gw0' crashed\n  \n", "", None, (), "worker 'gw0' crashed"),
        ("E   http://example.invalid: down", "", None, (), "http://example.invalid: down"),
    ],
)
def test_extract(
    text: str, crash: str, exception: str | None, chain: tuple[str, ...], message: str
) -> None:
    found = extract(text, crash)
    assert (found.exception, found.chain, found.message) == (exception, chain, message)


def test_extract_syntax_error_uses_the_least_indented_line() -> None:
    # The first least-indented E line is "File ..."; the type is on the location-free line.
    found = extract(SYNTAX)
    assert found.message.startswith('  File "/src/test_b.py", line 1')
    assert found.message.endswith("SyntaxError: invalid syntax")


@pytest.mark.parametrize(
    ("classname", "name", "file", "expected"),
    [
        ("tests.api.test_users", "test_get", None, "tests/api/test_users.py::test_get"),
        (
            "tests.test_users.TestApi.Inner",
            "test_get[a.b]",
            None,
            "tests/test_users.py::TestApi::Inner::test_get[a.b]",
        ),
        ("pkg.users_test.TestApi", "test_x", None, "pkg/users_test.py::TestApi::test_x"),
        ("pkg.checks.TestApi", "test_x", None, "pkg/checks.py::TestApi::test_x"),
        ("TestOnly", "test_x", None, "TestOnly.py::test_x"),
        ("", "pkg.test_mod", None, "pkg/test_mod.py"),
        ("", "pkg", None, "pkg"),
        ("", "pkg.test_mod", "pkg/test_mod.py", "pkg/test_mod.py"),
        ("pkg.checks.TestApi", "test_x", "pkg/checks.py", "pkg/checks.py::TestApi::test_x"),
        ("pkg.checks", "test_x", "pkg/checks.py", "pkg/checks.py::test_x"),
        # A test inherited from another module: file names the base class's module.
        ("pkg.test_b.TestB", "test_x", "pkg/base.py", "pkg/test_b.py::TestB::test_x"),
    ],
)
def test_nodeid(classname: str, name: str, file: str | None, expected: str) -> None:
    assert nodeid(classname, name, file) == expected


def test_render_short_native_locals_and_sections() -> None:
    longrepr = {
        "reprcrash": {"path": "/a.py", "lineno": 3, "message": "ValueError: v"},
        "reprtraceback": {
            "reprentries": [
                {
                    "type": "ReprEntry",
                    "data": {
                        "lines": ["    f()"],
                        "reprfuncargs": {"args": [["x", "1"], "junk"]},
                        "reprlocals": {"lines": ["y = 2"]},
                        "reprfileloc": {"path": "a.py", "lineno": 3, "message": "in t\nmore"},
                        "style": "long",
                    },
                },
                {
                    "type": "ReprEntry",
                    "data": {
                        "lines": ["E   ValueError: v"],
                        "style": "short",
                        "reprfileloc": {"path": "a.py", "lineno": 9, "message": "in f"},
                    },
                },
                {"type": "ReprEntryNative", "data": {"lines": ["  native\n"]}},
            ],
            "extraline": "!!! extra",
        },
        "sections": [["Captured stdout call", "hello"], ["bad"]],
    }
    text, crash = render(longrepr)
    assert crash == "ValueError: v"
    assert text.splitlines() == [
        "x = 1",
        "",
        "    f()",
        "",
        "y = 2",
        "",
        "a.py:3: in t",
        "_ " * 39 + "_",
        "a.py:9: in f",
        "E   ValueError: v",
        "_ " * 39 + "_",
        "  native",
        "!!! extra",
        "-------------------- Captured stdout call --------------------",
        "hello",
    ]
    assert extract(text, crash).exception == "ValueError"


@pytest.mark.parametrize(
    ("longrepr", "expected"),
    [
        (None, ("", "")),
        ("plain", ("plain", "")),
        (["a.py", 3, "Skipped: no"], ("a.py:3:Skipped: no", "")),
        ({"reprtraceback": {"reprentries": [{"data": {"lines": ["x"]}}]}}, ("x", "")),
        (42, ("", "")),
    ],
)
def test_render_simple_shapes(longrepr: object, expected: tuple[str, str]) -> None:
    assert render(longrepr) == expected


class _Trickle(io.RawIOBase):
    """A stream that hands out one byte per read, as a slow pipe may."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(1)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_gzip_magic_split_across_reads() -> None:
    data = b'{"tests": [{"nodeid": "a.py::t", "outcome": "passed"}]}'
    run = read_report(_Trickle(gzip.compress(data)))  # type: ignore[arg-type]
    assert [(t.nodeid, t.outcome) for t in run.tests] == [("a.py::t", Outcome.PASSED)]


def test_one_byte_report_is_not_gzip() -> None:
    with pytest.raises(ReportError, match="truncated JSON at byte 1"):
        read_report(_Trickle(b"{"))  # type: ignore[arg-type]


def test_report_stream_read_all_and_peek() -> None:
    stream = ReportStream(io.BytesIO(b"{abcdef"), 100)
    assert stream.peek(2) == b"{a"
    assert stream.read(1) == b"{"
    assert stream.read() == b"abcdef"
    assert stream.offset == 7
    assert stream.read(4) == b""


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b'{"$report_type": "SessionStart"}\n{}', ReportFormat.REPORT_LOG),
        (b'{"created": 1, "tests": []}', ReportFormat.JSON_REPORT),
        (b'{\n  "created": 1', ReportFormat.JSON_REPORT),
        (b"{oops\n", ReportFormat.JSON_REPORT),
        (b'{"a": 1}\n', ReportFormat.JSON_REPORT),
        (b"\n <?xml version='1.0'?>", ReportFormat.JUNIT_XML),
    ],
)
def test_detect(head: bytes, fmt: ReportFormat) -> None:
    assert detect(head) is fmt


def _junit(*cases: str) -> bytes:
    return f"<testsuite time='x' timestamp='nope'>{''.join(cases)}</testsuite>".encode()


def test_junit_hand_written_shapes() -> None:
    run = read_report_bytes(
        _junit(
            "<testcase classname='test_a' name='test_strict'>"
            "<skipped message='xfail-marked test passes unexpectedly'/></testcase>",
            "<testcase classname='test_a' name='test_skip'><skipped type='pytest.skip' "
            "message='no'/><system-out>x</system-out></testcase>",
            "<testcase classname='' name='test_b'><skipped message='collection skipped'/>"
            "</testcase>",
            "<testcase classname='test_a' name='test_odd'><error message='odd'>"
            "E   OSError: odd</error></testcase>",
        )
    )
    assert run.created is None
    assert run.duration == 0.0
    assert [(t.nodeid, t.outcome) for t in run.tests] == [
        ("test_a.py::test_strict", Outcome.FAILED),
        ("test_a.py::test_skip", Outcome.SKIPPED),
        ("test_a.py::test_odd", Outcome.ERROR),
    ]
    assert [(f.phase, f.exception, f.message) for f in run.failures] == [
        (Phase.CALL, None, "xfail-marked test passes unexpectedly"),
        (Phase.SETUP, "OSError", "OSError: odd"),
    ]


def test_junit_message_attribute_is_the_fallback() -> None:
    run = read_report_bytes(
        _junit(
            "<testcase classname='test_a' name='test_x'><error "
            "message='failed on setup with &quot;KeyError: 1&quot;'></error></testcase>"
        )
    )
    (failure,) = run.failures
    assert (failure.phase, failure.exception, failure.message) == (
        Phase.SETUP,
        "KeyError",
        "KeyError: 1",
    )


def test_report_log_crash_without_teardown_and_odd_times() -> None:
    lines = [
        {"$report_type": "SessionStart"},
        {
            "$report_type": "TestReport",
            "nodeid": "a.py::t",
            "when": "setup",
            "outcome": "passed",
            "start": 1e300,
            "stop": 1e300,
            "keywords": {"t": 1, "": 1},
        },
        {
            "$report_type": "TestReport",
            "nodeid": "a.py::u",
            "when": "call",
            "outcome": "passed",
            "wasxfail": "",
        },
        {"$report_type": "Unknown"},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    run = read_report_bytes(data)
    assert run.created is None
    assert [(t.nodeid, t.outcome, t.keywords) for t in run.tests] == [
        ("a.py::t", Outcome.PASSED, frozenset({"t"})),
        ("a.py::u", Outcome.XPASSED, frozenset()),
    ]


def test_json_report_odd_metadata() -> None:
    run = read_report_bytes(
        b'{"created": 1e300, "duration": "x", "exitcode": true, "summary": {"total": 1},'
        b' "warnings": [{"message": "w"}],'
        b' "tests": [{"nodeid": "a.py::t", "outcome": "passed", "keywords": ["t", 3]}]}'
    )
    assert (run.created, run.duration, run.exitcode) == (None, None, None)
    assert run.tests[0].keywords == frozenset({"t"})


def test_blank_lines_in_a_report_log_are_skipped() -> None:
    records = [
        {"$report_type": "SessionStart"},
        {"$report_type": "TestReport", "nodeid": "a.py::t", "when": "call", "outcome": "passed"},
    ]
    data = "\n\n".join(json.dumps(record) for record in records).encode() + b"\n\n"
    run = read_report_bytes(data)
    assert [(t.nodeid, t.outcome) for t in run.tests] == [("a.py::t", Outcome.PASSED)]


def test_detect_unknown_head() -> None:
    with pytest.raises(ReportError) as info:
        detect(b"PK\x03\x04 a zip file")
    assert info.value.reason == "unknown_format"
    assert info.value.message.startswith("unknown report format (starts with 'PK\\x03\\x04 a zip")
