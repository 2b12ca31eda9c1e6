"""`triage-bot outbox show [ID]`: a table of recent rows, or one row with its text."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.core.intents import PostComment, SetIssueState
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.outbox_repository import OutboxRepository

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
BODY = "Seen again in staging-e2e: 3 failures\n\n| test | run |\n| --- | --- |\n| test_pay | 42 |"


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("TRIAGE_DATABASE_URL", database_url)
    monkeypatch.setenv("TRIAGE_GITHUB_REPOSITORY", "acme/shop")
    for name in ("TRIAGE_GITHUB_TOKEN", "TRIAGE_GITHUB_APP_ID", "TRIAGE_GITHUB_APP_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            intents = [
                PostComment(1086, BODY, "k1"),
                SetIssueState(1088, "closed", "completed", "k2"),
                *(PostComment(2000 + n, f"row {n}", f"n{n}") for n in range(3, 26)),
            ]
            OutboxRepository(session).enqueue(intents, now=T0)
            session.commit()
    finally:
        engine.dispose()
    return database_url


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["outbox", "show", *args])


def test_without_id_a_table_of_the_newest_rows(url: str) -> None:
    result = run("--limit", "3")
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    assert header.split()[:5] == ["ID", "STATE", "KIND", "TARGET", "TRIES"]
    assert [line.split()[0] for line in lines] == ["25", "24", "23"]
    assert lines[0].split()[1:5] == ["pending", "PostComment", "#2025", "0"]
    assert lines[0].endswith("row 25")
    assert "outbox show --before 23" in result.stderr
    assert result.stderr.splitlines()[0] == f"database: {url}"
    older = run("--before", "3")
    assert [line.split()[0] for line in older.stdout.splitlines()[1:]] == ["2", "1"]
    assert older.stdout.splitlines()[1].endswith("close #1088 as completed")
    assert older.stdout.splitlines()[2].endswith("Seen again in staging-e2e: 3 failures")
    assert "--before" not in older.stderr


def test_with_id_every_field_and_the_whole_body(url: str) -> None:
    result = run("1")
    assert result.exit_code == 0, result.output
    head, _, body = result.stdout.partition("\n\n")
    fields = dict(line.split(":", 1) for line in head.splitlines())
    assert {k: v.strip() for k, v in fields.items() if k in ("id", "kind", "state", "target")} == {
        "id": "1",
        "kind": "PostComment",
        "state": "pending",
        "target": "acme/shop #1086",
    }
    assert fields["created"].strip().startswith("2026-11-20T08:00:00")
    assert body.rstrip("\n") == BODY


def test_state_filter_and_bad_input(url: str) -> None:
    assert run("--state", "dead").stdout.strip() == "no outbox rows"
    bad = run("--state", "sending")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: --state must be one of pending, sent, dead, superseded")
    missing = run("999")
    assert missing.exit_code == 1
    assert missing.stderr.strip().splitlines()[-1] == "error: no outbox row 999"
    assert run("--limit", "201").exit_code == 2


def test_a_dry_run_drain_logs_place_and_first_line_then_shows_sent(
    url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_OUTBOX_MIN_INTERVAL_S", "0")
    with caplog.at_level(logging.INFO, "bot.github.dryrun"):
        drained = CliRunner().invoke(app, ["outbox", "drain", "--no-wait"])
    assert drained.exit_code == 0, drained.output
    assert "dry run: no GitHub credentials" in drained.stdout
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.github.dryrun"]
    assert len(logged) == 25
    assert "dry run: would comment on acme/shop#1086: 'Seen again in staging-e2e: 3 failures'" in (
        logged
    )
    assert "dry run: would close acme/shop#1088 as completed" in logged
    assert not any("| test_pay |" in line for line in logged)  # the first line only
    shown = run("1")
    assert "state:        sent" in shown.stdout
    assert shown.stdout.rstrip("\n").endswith(BODY)


def test_no_escape_sequence_reaches_the_terminal(url: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            evil = PostComment(7, "AssertionError: \x1b[2J\x1b]0;owned\x07 gone\nsecond", "esc")
            OutboxRepository(session).enqueue([evil], now=T0)
            session.commit()
    finally:
        engine.dispose()
    table, row = run("--limit", "1"), run("26")
    for shown in (table.stdout, row.stdout):
        assert "\x1b" not in shown
        assert "\x07" not in shown
        assert "AssertionError: \ufffd[2J" in shown
    assert row.stdout.rstrip("\n").endswith("owned\ufffd gone\nsecond")
