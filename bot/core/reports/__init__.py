"""Read pytest reports (json-report, report-log, JUnit XML; maybe gzipped) into one TestRun."""

from __future__ import annotations

import io
import pathlib
from collections.abc import Callable
from typing import BinaryIO

from bot.core.errors import ReportError
from bot.core.model import ReportFormat, TestRun
from bot.core.reports.detect import HEAD, detect
from bot.core.reports.json_report import read_json_report
from bot.core.reports.junit import read_junit
from bot.core.reports.limits import ReportStream, describe_size, too_large
from bot.core.reports.reportlog import read_reportlog

__all__ = ["DEFAULT_MAX_BYTES", "read_report", "read_report_bytes", "read_report_path"]

# A 100 MB report is read; a 200 MB one (or one that decompresses to that) is refused.
DEFAULT_MAX_BYTES = 128 * 1024 * 1024

_READERS: dict[ReportFormat, Callable[[ReportStream], TestRun]] = {
    ReportFormat.JSON_REPORT: read_json_report,
    ReportFormat.REPORT_LOG: read_reportlog,
    ReportFormat.JUNIT_XML: read_junit,
}


def read_report(stream: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES) -> TestRun:
    """Read a report from a binary stream; every problem is a ReportError."""
    source = ReportStream(stream, max_bytes)
    return _READERS[detect(source.peek(HEAD))](source)


def read_report_bytes(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> TestRun:
    """Read a report held in memory."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return read_report(io.BytesIO(data), max_bytes=max_bytes)


def read_report_path(path: pathlib.Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> TestRun:
    """Read a report file; a missing file, a directory or an oversized file is refused first."""
    try:
        info = path.stat()
        if path.is_dir():
            raise ReportError("not_a_file", f"{path} is a directory, not a report file")
        if not path.is_file():
            raise ReportError("not_a_file", f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise ReportError(
                "too_large",
                f"{path} is {describe_size(info.st_size)}, "
                f"larger than the {describe_size(max_bytes)} limit",
            )
        with path.open("rb") as stream:
            return read_report(stream, max_bytes=max_bytes)
    except FileNotFoundError as exc:
        raise ReportError("not_found", f"{path}: no such file") from exc
    except OSError as exc:
        raise ReportError("unreadable", f"cannot read {path}: {exc.strerror or exc}") from exc
