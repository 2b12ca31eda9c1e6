"""Produce real pytest reports in every format by running a small suite with pytester."""

from __future__ import annotations

import gzip
import textwrap
from pathlib import Path

import pytest

from bot.core.model import Failure, ReportFormat, TestRun

REPORT_FILES = {
    ReportFormat.JSON_REPORT: "report.json",
    ReportFormat.REPORT_LOG: "report.jsonl",
    ReportFormat.JUNIT_XML: "report.xml",
}


def write_suite(pytester: pytest.Pytester, source: str | dict[str, str]) -> None:
    """Write test files: one source becomes test_suite.py, a dict maps paths to sources."""
    files = {"test_suite.py": source} if isinstance(source, str) else source
    for name, text in files.items():
        path = pytester.path / (name if name.endswith(".py") else f"{name}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def run_pytest_reports(
    pytester: pytest.Pytester, source: str | dict[str, str], *extra_args: str
) -> dict[ReportFormat, Path]:
    """Run pytest once on the suite, writing all three report formats; return their paths.

    extra_args go to pytest as they are (e.g. "-o", "junit_family=xunit1", "--tb=native").
    """
    write_suite(pytester, source)
    out = pytester.path / "reports"
    out.mkdir(exist_ok=True)
    paths = {fmt: out / name for fmt, name in REPORT_FILES.items()}
    pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--json-report",
        f"--json-report-file={paths[ReportFormat.JSON_REPORT]}",
        f"--report-log={paths[ReportFormat.REPORT_LOG]}",
        f"--junitxml={paths[ReportFormat.JUNIT_XML]}",
        *extra_args,
    )
    for fmt, path in paths.items():
        assert path.is_file(), f"pytest wrote no {fmt} report"
    return paths


def gzip_copy(path: Path) -> Path:
    """Write a gzip-compressed copy of a report next to it (with a misleading name)."""
    target = path.with_name(path.name + ".data")
    target.write_bytes(gzip.compress(path.read_bytes()))
    return target


def failure_keys(run: TestRun) -> set[tuple[str, str, str, str | None]]:
    """Return the (nodeid, phase, outcome, exception type) of every failure of a run."""
    return {(f.nodeid, f.phase.value, f.outcome.value, f.exception) for f in run.failures}


def by_key(run: TestRun) -> dict[tuple[str, str], Failure]:
    """Index a run's failures by (nodeid, phase)."""
    return {(f.nodeid, f.phase.value): f for f in run.failures}


_CACHE: dict[tuple[str, tuple[str, ...]], dict[ReportFormat, bytes]] = {}


def report_bytes(
    pytester: pytest.Pytester, source: str, *extra_args: str
) -> dict[ReportFormat, bytes]:
    """Return the bytes of each report of a run; the same suite runs once per process."""
    key = (source, extra_args)
    if key not in _CACHE:
        paths = run_pytest_reports(pytester, source, *extra_args)
        _CACHE[key] = {fmt: path.read_bytes() for fmt, path in paths.items()}
    return _CACHE[key]
