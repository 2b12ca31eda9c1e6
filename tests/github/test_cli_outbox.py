"""`triage-bot outbox drain|status` against the fake GitHub and a real SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.outbox import register
from bot.core.intents import PostComment, UpsertComment
from bot.store.engine import make_engine
from bot.store.outbox import ensure_outbox_tables
from tests.github.outbox_helpers import enqueue
from tests.github_server import TOKEN, GitHubState

app = typer.Typer()
register(app)  # bot/cli/__init__.py adds it to the real app the same way


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, github: GitHubState) -> str:
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key, value in {
        "TRIAGE_DATABASE_URL": url,
        "TRIAGE_GITHUB_TOKEN": TOKEN,
        "TRIAGE_GITHUB_API_URL": github.base_url,
        "TRIAGE_GITHUB_REPOSITORY": github.repo,
        "TRIAGE_OUTBOX_MIN_INTERVAL_S": "0",
    }.items():
        monkeypatch.setenv(key, value)
    return url


def _plan(url: str) -> None:
    engine = make_engine(url)
    ensure_outbox_tables(engine)
    now = datetime.now(UTC)
    enqueue(
        engine, [PostComment(1, "hello", "k1"), UpsertComment(2, "occurrences", "s", "k2")], now
    )
    engine.dispose()


def test_drain_sends_everything_and_status_shows_it(env: str, github: GitHubState) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["outbox", "status"]).exit_code == 0  # creates the database
    _plan(env)
    result = runner.invoke(app, ["outbox", "drain"])
    assert result.exit_code == 0, result.output
    assert "ok: sent 2, retried 0, dead 0" in result.output
    assert len(github.comments_on(1)) == 1
    assert len(github.comments_on(2)) == 1
    status = runner.invoke(app, ["outbox", "status"])
    assert json.loads(status.output)["sent"] == 2


def test_drain_without_credentials_is_a_dry_run(
    env: str, github: GitHubState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRIAGE_GITHUB_TOKEN")
    runner = CliRunner()
    runner.invoke(app, ["outbox", "status"])
    _plan(env)
    result = runner.invoke(app, ["outbox", "drain"])
    assert result.exit_code == 0, result.output
    assert "dry run: no GitHub credentials" in result.output
    assert github.requests == []
