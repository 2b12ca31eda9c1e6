"""Data-driven cases: real pytest suites in tests/cases/, read in every format, matched, compared.

Each folder holds test_case.py (a small suite that really reproduces a failure kind) and
expected.toml (per failure: test, phase, exception, known_issue, category). Add a folder to
add a case; the folder name is the test id.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.model import Failure, ReportFormat
from bot.core.reports import read_report_path
from tests.core.report_helpers import run_pytest_reports

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p for p in (ROOT / "tests" / "cases").iterdir() if (p / "expected.toml").is_file())
MODULE = "<module>"
Row = tuple[str, str, str, str, str]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(ROOT / "knowledge")


def _test_name(nodeid: str) -> str:
    """Name a failure as expected.toml does: the part after the module, or <module>."""
    _, sep, rest = nodeid.partition("::")
    return rest if sep else MODULE


def _row(kb: KnowledgeBase, failure: Failure) -> Row:
    match = kb.match(failure)
    return (
        _test_name(failure.nodeid),
        failure.phase.value,
        failure.exception or "none",
        str(match.issue) if match else "none",
        kb.category(failure, match).value,
    )


def _expected(case: Path) -> set[Row]:
    data = tomllib.loads((case / "expected.toml").read_text())
    return {
        (f["test"], f["phase"], f["exception"], str(f["known_issue"]), f["category"])
        for f in data["failures"]
    }


def test_every_case_folder_is_complete() -> None:
    assert len(CASES) >= 9
    for case in CASES:
        assert (case / "test_case.py").is_file(), case.name
        assert _expected(case), case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_classifies_as_expected(
    pytester: pytest.Pytester, kb: KnowledgeBase, case: Path
) -> None:
    reports = run_pytest_reports(pytester, (case / "test_case.py").read_text())
    assert set(reports) == set(ReportFormat)
    expected = _expected(case)
    for fmt, path in sorted(reports.items()):
        run = read_report_path(path)
        got = {_row(kb, f) for f in run.failures}
        assert got == expected, fmt
