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
from bot.store.migrate import upgrade
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
    upgrade(url)
    engine = make_engine(url)
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
    assert json.loads(status.stdout)["sent"] == 2


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


def test_retry_requeues_dead_rows_by_id_or_all(env: str, github: GitHubState) -> None:
    runner = CliRunner()
    runner.invoke(app, ["outbox", "status"])
    engine = make_engine(env)
    now = datetime.now(UTC)
    # Issues 7 and 8 do not exist yet: both comments are refused and dead at once.
    enqueue(engine, [PostComment(7, "a", "k7"), PostComment(8, "b", "k8")], now)
    engine.dispose()
    assert "dead 2" in runner.invoke(app, ["outbox", "drain"]).output
    dead_ids = [row["id"] for row in json.loads(runner.invoke(app, ["outbox", "status"]).stdout)
                ["dead_rows"]]  # fmt: skip
    assert len(dead_ids) == 2

    missing = runner.invoke(app, ["outbox", "retry"])
    assert missing.exit_code == 2
    assert "give outbox row ids, or --dead" in missing.output

    github.add_issue(7)
    one = runner.invoke(app, ["outbox", "retry", str(min(dead_ids)), "99999"])
    assert one.exit_code == 1  # 99999 is no dead row: said, and the exit code tells
    assert f"ok: requeued 1 dead rows: {min(dead_ids)}" in one.output
    assert "skipped 99999: missing, not dead" in one.output
    assert "sent 1" in runner.invoke(app, ["outbox", "drain"]).output
    assert len(github.comments_on(7)) == 1

    github.add_issue(8)
    every = runner.invoke(app, ["outbox", "retry", "--dead"])
    assert every.exit_code == 0, every.output
    assert f"requeued 1 dead rows: {max(dead_ids)}" in every.output
    assert "sent 1" in runner.invoke(app, ["outbox", "drain"]).output
    status = json.loads(runner.invoke(app, ["outbox", "status"]).stdout)
    assert (status["dead"], status["sent"], status["in_doubt"]) == (0, 2, 0)
    assert len(github.comments_on(8)) == 1
