"""Settings are checked when they load, so a bad value is one line at start, not a traceback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(("given", "kept"), [("mon", "mon"), ("Monday", "mon"), (" fri ", "fri")])
def test_report_day_takes_weekday_names(given: str, kept: str) -> None:
    assert _settings(report_day=given).report_day == kept


@pytest.mark.parametrize(
    "values",
    [
        {"report_day": "1"},
        {"report_day": "mond"},
        {"report_day": "funday"},
        {"report_hour": 24},
        {"report_timezone": "Mars/Olympus"},
    ],
)
def test_bad_schedule_settings_are_refused_at_load(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _settings(**values)


def test_serve_says_in_one_line_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("TRIAGE_REPORT_DAY", "0")
    bad_day = runner.invoke(app, ["serve", "--port", "0"])
    assert bad_day.exit_code == 2
    assert "report_day" in bad_day.stderr
    monkeypatch.delenv("TRIAGE_REPORT_DAY")
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "postgresql+psycopg://app:hunter2@127.0.0.1:1/x")
    no_db = runner.invoke(app, ["serve", "--port", "0"])
    assert no_db.exit_code == 2
    assert no_db.stderr.startswith("error: database: ")
    assert "hunter2" not in no_db.output
    assert "Traceback" not in no_db.output
