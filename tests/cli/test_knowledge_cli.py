"""`triage-bot kb validate`: a summary line when good, one line per problem and exit 1 if not."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.kb import register

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    register(root)
    return root


def test_validate_the_shipped_knowledge(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["kb", "validate", str(KNOWLEDGE)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 5 known issues, ")
    assert result.output.strip().endswith(" rules")


def test_validate_defaults_to_the_settings_directory(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("TRIAGE_KNOWLEDGE_DIR", str(tmp_path / "missing"))
    result = CliRunner().invoke(app, ["kb", "validate"])
    assert result.exit_code == 1
    assert result.output == f"error: {tmp_path / 'missing'}: not a directory\n"


def test_validate_reports_bad_settings_in_one_line(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_SQLITE_BUSY_TIMEOUT_MS", "soon")
    result = CliRunner().invoke(app, ["kb", "validate"])
    assert result.exit_code == 1
    assert result.output.startswith("error: invalid TRIAGE_* settings: 1 problem(s): ")
    assert "sqlite_busy_timeout_ms" in result.output
    assert len(result.output.splitlines()) == 1


def test_validate_a_bad_directory_prints_one_line_per_problem(
    app: typer.Typer, tmp_path: Path
) -> None:
    (tmp_path / "issues").mkdir()
    (tmp_path / "categories.toml").write_text("[[patterns]]\nid = 'a'\nmessage = '(?=x)'\n")
    (tmp_path / "issues" / "7-x.toml").write_text(
        "issue = 8\ntitle = 't'\ncategory = 'product'\n[[rules]]\nid = 'a'\nmessage = '(a)\\1'\n"
    )
    result = CliRunner().invoke(app, ["kb", "validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [
        "error: categories.toml: rule 'a': field 'message': RE2 rejects the pattern '(?=x)': "
        "invalid perl operator: (?=",
        "error: issues/7-x.toml: field 'issue': the file name must start with '8-'",
        "error: issues/7-x.toml: rule 'a': field 'message': RE2 rejects the pattern '(a)\\\\1': "
        "invalid escape sequence: \\1",
    ]
    assert "Traceback" not in result.output
