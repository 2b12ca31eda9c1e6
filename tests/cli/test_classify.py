"""`triage-bot classify` on reports written by really running pytest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.core.model import ReportFormat
from tests.core.report_helpers import gzip_copy, run_pytest_reports

SUITE = """
import pytest

def test_ok():
    pass

def test_fixture(real_services):
    pass

def test_product():
    assert 1 + 1 == 3

class TestCart:
    def test_attr(self):
        self.cart.add(1)
"""

runner = CliRunner()


@pytest.fixture
def reports(pytester: pytest.Pytester) -> dict[ReportFormat, Path]:
    return run_pytest_reports(pytester, SUITE)


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_json_lines_name_known_and_unknown_failures(
    reports: dict[ReportFormat, Path], fmt: ReportFormat
) -> None:
    result = runner.invoke(app, ["classify", str(reports[fmt]), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["nodeid"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {
        "test_suite.py::test_fixture",
        "test_suite.py::test_product",
        "test_suite.py::TestCart::test_attr",
    }
    fixture = rows["test_suite.py::test_fixture"]
    assert fixture["known_issue"] == 623
    assert fixture["phase"] == "setup"
    assert fixture["category"] == "infrastructure"
    assert rows["test_suite.py::TestCart::test_attr"]["known_issue"] == 1111
    product = rows["test_suite.py::test_product"]
    assert product["known_issue"] is None
    assert product["rule"] is None
    assert product["category"] == "product"
    assert product["exception"] == "AssertionError"
    assert set(product) == {
        "nodeid", "phase", "outcome", "exception", "message",
        "fingerprint", "known_issue", "rule", "category",
    }  # fmt: skip
    assert len(product["fingerprint"]) == 16


def test_fail_on_unknown_exits_1(reports: dict[ReportFormat, Path]) -> None:
    path = str(reports[ReportFormat.JSON_REPORT])
    assert runner.invoke(app, ["classify", path]).exit_code == 0
    assert runner.invoke(app, ["classify", path, "--fail-on", "unknown"]).exit_code == 1


def test_table_lists_issue_titles_and_counts(reports: dict[ReportFormat, Path]) -> None:
    result = runner.invoke(app, ["classify", str(gzip_copy(reports[ReportFormat.JUNIT_XML]))])
    assert result.exit_code == 0, result.output
    assert "#623 Fixture 'real_services' not found" in result.stdout
    assert "known: 2  unknown: 1" in result.stdout


def test_only_known_failures_pass_the_gate(pytester: pytest.Pytester) -> None:
    paths = run_pytest_reports(pytester, "def test_fixture(real_services):\n    pass\n")
    path = str(paths[ReportFormat.REPORT_LOG])
    assert runner.invoke(app, ["classify", path, "--fail-on", "unknown"]).exit_code == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"created": 1, "tests": [', "truncated json"),
        (b"", "empty"),
        (b"hello world", "unknown report format"),
        (b"\xff\xfe\x00garbage", ""),
    ],
)
def test_bad_report_is_one_line_and_exit_2(tmp_path: Path, content: bytes, expected: str) -> None:
    bad = tmp_path / "report.json"
    bad.write_bytes(content)
    result = runner.invoke(app, ["classify", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {bad}: ")
    assert expected in lines[0].lower()


def test_directory_and_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", str(tmp_path), str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "directory" in result.stderr
    assert "nope.json" in result.stderr
    assert result.stderr.count("nope.json") == 1  # named once, not "nope.json: nope.json: ..."
    assert "Traceback" not in result.output


def test_bad_knowledge_dir_is_reported(tmp_path: Path, reports: dict[ReportFormat, Path]) -> None:
    (tmp_path / "issues").mkdir()
    (tmp_path / "issues" / "1-x.toml").write_text("issue = 1\ntitle = 'x'\n", encoding="utf-8")
    result = runner.invoke(
        app, ["classify", str(reports[ReportFormat.JSON_REPORT]), "--knowledge", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: knowledge base {tmp_path}:")
    assert "Traceback" not in result.output
