"""Bad reports give a ReportError with a reason code and one clear line, never a traceback."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path

import pytest

from bot.core.errors import ReportError
from bot.core.model import ReportFormat
from bot.core.reports import DEFAULT_MAX_BYTES, read_report, read_report_bytes, read_report_path
from tests.core.report_helpers import report_bytes, run_pytest_reports

SMALL_SUITE = """
def test_one():
    assert 1 == 2

def test_two():
    pass
"""


def _error(data: bytes, **kwargs: int) -> ReportError:
    with pytest.raises(ReportError) as info:
        read_report_bytes(data, **kwargs)
    assert "\n" not in info.value.message
    return info.value


@pytest.fixture
def real(pytester: pytest.Pytester) -> dict[ReportFormat, bytes]:
    """The bytes of a small real run in each format."""
    return report_bytes(pytester, SMALL_SUITE)


def test_truncated_json(real: dict[ReportFormat, bytes]) -> None:
    data = real[ReportFormat.JSON_REPORT]
    cut = data[: len(data) // 2]
    error = _error(cut)
    assert (error.reason, error.message) == ("malformed", f"truncated JSON at byte {len(cut)}")


def test_truncated_report_log(real: dict[ReportFormat, bytes]) -> None:
    data = real[ReportFormat.REPORT_LOG]
    cut = data[: data.index(b"\n", len(data) // 2) + 20]
    error = _error(cut)
    assert error.reason == "malformed"
    assert error.message.startswith("truncated JSON on line ")


def test_broken_line_in_report_log(real: dict[ReportFormat, bytes]) -> None:
    lines = real[ReportFormat.REPORT_LOG].split(b"\n")
    lines[2] = b'{"$report_type": "TestReport", oops'
    error = _error(b"\n".join(lines))
    assert error.reason == "malformed"
    assert error.message.startswith("malformed JSON on line 3 (byte ")


def test_truncated_junit(real: dict[ReportFormat, bytes]) -> None:
    data = real[ReportFormat.JUNIT_XML]
    error = _error(data[: len(data) // 2])
    assert error.reason == "malformed"
    assert error.message.startswith(("truncated XML at line 1", "malformed XML at line 1"))


def test_truncated_gzip(real: dict[ReportFormat, bytes]) -> None:
    packed = gzip.compress(real[ReportFormat.JSON_REPORT])
    error = _error(packed[: len(packed) // 2])
    assert error.reason == "malformed"
    assert error.message in (
        "truncated gzip data: the compressed stream ends early",
        f"truncated JSON at byte {error.message.rsplit(' ', 1)[-1]}",
    )


def test_corrupt_gzip() -> None:
    error = _error(b"\x1f\x8b" + b"\x00" * 40)
    assert error.reason == "malformed"
    assert error.message.startswith("corrupt gzip data:")


def test_concatenated_gzip_members_are_one_report(real: dict[ReportFormat, bytes]) -> None:
    data = real[ReportFormat.REPORT_LOG]
    half = data.index(b"\n", len(data) // 2) + 1
    packed = gzip.compress(data[:half]) + gzip.compress(data[half:]) + b"\x00" * 8
    assert read_report_bytes(packed) == read_report_bytes(data)


@pytest.mark.parametrize(
    ("data", "start"),
    [
        (b"hello world", "unknown report format (starts with 'hello world')"),
        (b"\x89PNG\r\n\x1a\n", "unknown report format"),
        (b"[1, 2, 3]", "unknown report format (starts with '[1, 2, 3]')"),
        (b'{"answer": 42}', "JSON object is not a pytest-json-report report"),
        (b"<html><body/></html>", "XML root is <html>, not JUnit's"),
    ],
)
def test_unknown_format(data: bytes, start: str) -> None:
    error = _error(data)
    assert error.reason == "unknown_format"
    assert error.message.startswith(start)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "report is empty"),
        (b"  \n\t\n", "report is only whitespace"),
        (gzip.compress(b"", mtime=0), "report is empty"),
    ],
)
def test_empty(data: bytes, message: str) -> None:
    error = _error(data)
    assert (error.reason, error.message) == ("empty", message)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"")
    with pytest.raises(ReportError, match=r"^report is empty$"):
        read_report_path(path)


def test_report_with_no_tests(pytester: pytest.Pytester) -> None:
    paths = run_pytest_reports(pytester, "def helper():\n    pass\n")
    for fmt, path in paths.items():
        with pytest.raises(ReportError) as info:
            read_report_path(path)
        assert info.value.reason == "no_tests", fmt
        assert info.value.message == "report has no tests and no collection errors"


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_invalid_utf8(real: dict[ReportFormat, bytes], fmt: ReportFormat) -> None:
    data = real[fmt]
    at = data.index(b"test_one")
    error = _error(data[:at] + b"\xff\xfe" + data[at:])
    assert (error.reason, error.message) == ("encoding", f"invalid UTF-8 at byte {at}")


def test_cut_utf8_character_at_the_end() -> None:
    error = _error(b'{"tests": []}\xc3')
    assert error.reason == "encoding"
    assert error.message == "invalid UTF-8 at byte 14: cut character"


def test_byte_order_mark_is_accepted(real: dict[ReportFormat, bytes]) -> None:
    data = real[ReportFormat.JSON_REPORT]
    assert read_report_bytes(b"\xef\xbb\xbf" + data) == read_report_bytes(data)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ReportError) as info:
        read_report_path(tmp_path)
    assert (info.value.reason, info.value.message) == (
        "not_a_file",
        f"{tmp_path} is a directory, not a report file",
    )


def test_special_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ReportError) as info:
        read_report_path(fifo)
    assert (info.value.reason, info.value.message) == (
        "not_a_file",
        f"{fifo} is not a regular file",
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportError) as info:
        read_report_path(tmp_path / "nope.json")
    assert (info.value.reason, info.value.message) == (
        "not_found",
        f"{tmp_path / 'nope.json'}: no such file",
    )


def test_file_too_large(tmp_path: Path, real: dict[ReportFormat, bytes]) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(real[ReportFormat.JSON_REPORT])
    with pytest.raises(ReportError) as info:
        read_report_path(path, max_bytes=1024)
    assert info.value.reason == "too_large"
    assert info.value.message.startswith(f"{path} is ")
    assert info.value.message.endswith("KiB, larger than the 1.0 KiB limit")


def test_bytes_and_stream_too_large(real: dict[ReportFormat, bytes]) -> None:
    data = real[ReportFormat.REPORT_LOG]
    assert _error(data, max_bytes=100).message == "report is larger than the 100 bytes limit"
    with pytest.raises(ReportError, match=r"^report is larger than the 2\.0 KiB limit$"):
        read_report(io.BytesIO(data * 10), max_bytes=2048)


def test_default_limit_refuses_200_mb(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as out:
        out.truncate(200 * 1000 * 1000)  # sparse: no disk space, but 200 MB for stat()
    with pytest.raises(ReportError, match=r"is 190\.7 MiB, larger than the 128\.0 MiB limit$"):
        read_report_path(path)
    assert DEFAULT_MAX_BYTES == 128 * 1024 * 1024


def _gzip_bomb(size: int) -> bytes:
    """Compress the start of a JSON report and `size` spaces, never holding them: ~1000:1."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1024 * 1024)
    parts = [packer.compress(b'{"tests": [')]
    parts += [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


def test_gzip_bomb_is_refused() -> None:
    bomb = _gzip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    error = _error(bomb)
    assert (error.reason, error.message) == (
        "too_large",
        "decompressed report is larger than the 128.0 MiB limit",
    )


def test_xml_entity_bomb_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<testsuites><testsuite><testcase classname='a' name='&lol2;'/></testsuite></testsuites>"
    )
    error = _error(bomb)
    assert error.reason == "malformed"
    assert error.message.startswith("XML refused: EntitiesForbidden(name='lol'")


def test_unreadable_stream() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: object) -> int:
            raise OSError(5, "Input/output error")

    with pytest.raises(ReportError) as info:
        read_report(io.BufferedReader(Broken()))
    assert (info.value.reason, info.value.message) == (
        "unreadable",
        "cannot read report: Input/output error",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"tests": {}}', "'tests' is not a list"),
        (b'{"tests": 3}', "'tests' is not a list"),
        (b'{"tests": [1]}', "an element of 'tests' is not an object"),
        (b'{"tests": [[1]]}', "an element of 'tests' is not an object"),
        (b'{"tests": [{"outcome": "passed"}]}', "an element of 'tests' has no string 'nodeid'"),
        (
            b'{"tests": [{"nodeid": "a", "outcome": "odd"}]}',
            "test 'a' has an unknown outcome 'odd'",
        ),
        (
            b'{"tests": [{"nodeid": "a", "outcome": "passed", "call": 1}]}',
            "test 'a': 'call' is not an object",
        ),
        (
            b'{"collectors": [{"outcome": "failed"}]}',
            "an element of 'collectors' has no string 'nodeid'",
        ),
        (b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}", "JSON nested deeper than 64 levels"),
        (b'{"a": x}', "malformed JSON before byte 8: lexical error: invalid char in json text."),
        (b'{"tests": []} {}', "malformed JSON before byte 16: parse error: trailing garbage"),
    ],
)
def test_malformed_json_report(data: bytes, message: str) -> None:
    error = _error(data)
    assert (error.reason, error.message) == ("malformed", message)


def test_json_report_without_tests() -> None:
    error = _error(
        b'{"exitcode": 5, "tests": [], "collectors": [{"nodeid": "", "outcome": "passed"}]}'
    )
    assert error.reason == "no_tests"


LOG = b'{"$report_type": "SessionStart", "pytest_version": "9"}\n'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (LOG + b"[1]\n", "line 2 is not a report-log record (no '$report_type')"),
        (
            LOG + b'{"$report_type": "TestReport", "when": "call"}\n',
            "line 2: record has no string 'nodeid'",
        ),
        (
            LOG + b'{"$report_type": "TestReport", "nodeid": "a", "when": ["x"]}\n',
            "line 2: unknown phase ['x']",
        ),
        (
            LOG + b'{"$report_type": "CollectReport", "outcome": "failed"}\n',
            "line 2: record has no string 'nodeid'",
        ),
    ],
)
def test_malformed_report_log(data: bytes, message: str) -> None:
    error = _error(data)
    assert (error.reason, error.message) == ("malformed", message)


def test_report_log_with_only_session_records() -> None:
    error = _error(LOG + b'{"$report_type": "SessionFinish", "exitstatus": 5}\n')
    assert error.reason == "no_tests"


def test_malformed_xml() -> None:
    error = _error(b"<testsuites><testsuite></testcase></testsuites>")
    assert (error.reason, error.message) == (
        "malformed",
        "malformed XML at line 1, column 25: mismatched tag",
    )


def test_path_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportError) as info:
        read_report_path(tmp_path / "file" / "report.json")
    assert (info.value.reason, info.value.message) == (
        "unreadable",
        f"cannot read {tmp_path / 'file' / 'report.json'}: Not a directory",
    )


def test_json_report_summary_only() -> None:
    error = _error(b'{"exitcode": 1, "summary": {"failed": 1, "total": 1}}')
    assert (error.reason, error.message) == (
        "no_tests",
        "report has no tests and no collection errors (written with --json-report-summary?)",
    )
