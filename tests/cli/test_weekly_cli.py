"""`triage-bot report weekly`: render to stdout, post once, one clear line on bad input."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.report import register
from bot.store.migrate import upgrade
from tests.services.objective_history import fresh_engine, load_scenario, seed


@pytest.fixture
def cli(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    upgrade(sqlite_url)
    engine = fresh_engine(sqlite_url)
    seed(engine, load_scenario("six_weeks"))
    engine.dispose()
    monkeypatch.setenv("TRIAGE_DATABASE_URL", sqlite_url)
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """Stand-in for the real root command."""

    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["report", "weekly", *args])


def test_render_to_stdout(cli: Any) -> None:
    result = cli("--suite", "staging", "--week", "2026-W45")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Staging weekly report: staging, 2026-W45")
    assert "xychart-beta" in result.output


def test_post_once(cli: Any) -> None:
    first = cli("--week", "2026-W45", "--post")
    assert (first.exit_code, first.stdout.strip()) == (0, "staging 2026-W45: queued")
    again = cli("--week", "2026-W45", "--post")
    assert again.stdout.strip() == "staging 2026-W45: already posted (claimed earlier)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--week", "2026-47"), "error: week must look like 2026-W47, not '2026-47'"),
        (("--suite", "nope"), "error: no run of suite 'nope' was ever ingested"),
    ],
)
def test_bad_input_is_one_line(cli: Any, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert [x for x in result.stderr.splitlines() if not x.startswith("database: ")] == [message]
