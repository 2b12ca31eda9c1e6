"""The CLI refuses bad metadata and out-of-range dates with one error line, never a traceback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import ingest as ingest_cli
from bot.cli.report import register as register_report
from bot.core.model import ReportFormat
from bot.store.engine import make_engine
from bot.store.uow import SqlUnitOfWork
from tests.core.report_helpers import run_pytest_reports

SUITE = """
def test_ok():
    pass

def test_bad():
    assert 1 == 2
"""


@pytest.fixture
def app(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> typer.Typer:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    app = typer.Typer()
    ingest_cli.register(app)
    register_report(app)
    return app


@pytest.fixture
def report(pytester: pytest.Pytester) -> Path:
    return run_pytest_reports(pytester, SUITE)[ReportFormat.JSON_REPORT]


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def stored_runs(sqlite_url: str) -> int:
    engine = make_engine(sqlite_url)
    try:
        with SqlUnitOfWork(engine, write=False) as uow:
            return uow.runs.page(suite="e2e", offset=0, limit=10)[1]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--at", "0001-01-01"), "started_at"),
        (("--at", "1999-12-31T23:00:00"), "started_at"),
        (("--at", (datetime.now(UTC) + timedelta(days=3)).isoformat()), "future"),
        (("--branch", "main\x00x"), "branch"),
        (("--commit", "ab\x1bcd"), "commit"),
        (("--ci-url", "javascript:alert(1)"), "ci_url"),
        (("--environment", "qa\n"), "environment"),
    ],
)
def test_bad_metadata_is_one_line_and_exit_2(
    app: typer.Typer, report: Path, sqlite_url: str, args: tuple[str, ...], words: str
) -> None:
    code, err = run(app, "ingest", str(report), "--suite", "e2e", *args)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ")
    assert words in line


def test_a_report_created_in_the_future_is_refused(
    app: typer.Typer, report: Path, sqlite_url: str, tmp_path: Path
) -> None:
    data = json.loads(report.read_bytes())
    data["created"] = (datetime.now(UTC) + timedelta(days=3)).timestamp()
    future = tmp_path / "future.json"
    future.write_text(json.dumps(data))
    code, err = run(app, "ingest", str(future), "--suite", "e2e")
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "future" in lines[0]
    assert stored_runs(sqlite_url) == 0


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52", "1999-W52"])
def test_report_weekly_with_an_out_of_range_week_is_one_line(app: typer.Typer, week: str) -> None:
    code, err = run(app, "report", "weekly", "--suite", "S", "--week", week)
    assert code == 2
    assert err.strip() == "error: the year of a week must be 2000 to 9998"
