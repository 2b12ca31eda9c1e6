"""Tell the three report formats apart from their first bytes, never from a file name."""

from __future__ import annotations

import json

from bot.core.errors import ReportError
from bot.core.model import ReportFormat

HEAD = 64 * 1024
_SPACE = b" \t\r\n"
STARTS = (b"{", b"<")


def _is_log_record(line: bytes) -> bool:
    """Say whether one line is a pytest-reportlog record (a JSON object with a $report_type)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(record, dict) and "$report_type" in record


def detect(head: bytes) -> ReportFormat:
    """Return the format of a report from its first bytes (up to HEAD of them)."""
    text = head.lstrip(_SPACE)
    if not text:
        raise ReportError("empty", "report is empty" if not head else "report is only whitespace")
    if not text.startswith(STARTS):
        raise unknown_format(text)
    if text.startswith(b"<"):
        return ReportFormat.JUNIT_XML
    first, newline, _ = text.partition(b"\n")
    # A report log starts with a whole record on its own line; a json-report
    # document is one long line, or (indented) starts with a bare "{".
    if newline and _is_log_record(first):
        return ReportFormat.REPORT_LOG
    return ReportFormat.JSON_REPORT


def unknown_format(head: bytes) -> ReportError:
    """Build the error for content that starts like none of the three formats."""
    shown = head.lstrip(_SPACE)[:20].decode("utf-8", "replace")
    return ReportError(
        "unknown_format",
        f"unknown report format (starts with {shown!r}); expected pytest-json-report JSON, "
        "pytest-reportlog JSON lines or JUnit XML",
    )
