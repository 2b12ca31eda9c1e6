"""A first run explains itself: data directory, the database named, serve's banner and address."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.banner import Start, banner
from bot.config import Settings
from tests.web.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
SECRETS = {
    "api_token": "up-token-1234",
    "read_token": "read-token-5678",
    "webhook_secret": "hook-9",
}


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _rows(settings: Settings, auth: str | None = None) -> dict[str, str]:
    head, *lines = banner(settings, Start("127.0.0.1", 8123, 5, auth))  # type: ignore[arg-type]
    assert head == "triage-bot serving on http://127.0.0.1:8123"
    return {line.split()[0]: line.split(maxsplit=1)[1] for line in lines}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TRIAGE_* from outside, XDG_DATA_HOME in tmp_path, and the cwd an empty folder."""
    for name in list(os.environ):
        if name.startswith("TRIAGE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return tmp_path


def test_banner_of_a_bare_first_run_says_what_is_off_and_why(clean_env: Path) -> None:
    rows = _rows(_settings())
    assert rows["uploads"].startswith("off:")
    assert "until TRIAGE_API_TOKEN is set" in rows["uploads"]
    assert rows["webhooks"].startswith("off:")
    assert "TRIAGE_WEBHOOK_SECRET" in rows["webhooks"]
    assert rows["reads"].startswith("open:")
    assert rows["dry-run"].startswith("on: no GitHub credentials")
    assert rows["sender"].startswith("on:")
    assert rows["scheduler"].startswith("on: weekly report mon 09:00 UTC to issue #623")
    database = f"sqlite:///{clean_env / 'xdg' / 'triage-bot' / 'triage.db'}"
    assert rows["database"] == f"{database} (the default place in TRIAGE_DATA_DIR)"
    assert rows["knowledge"].endswith(": 5 known issues")


def test_banner_with_everything_set_says_on_and_never_prints_a_secret() -> None:
    settings = _settings(
        **{k: SecretStr(v) for k, v in SECRETS.items()},
        github_repository="acme/shop",
        github_token=SecretStr("ghp_" + "x" * 36),
        database_url="postgresql+psycopg://triage:db-pass-42@db:5432/triage",
        report_as_new_issue=True,
    )
    rows = _rows(settings, "token")
    assert rows["uploads"].startswith("on:")
    assert rows["webhooks"].startswith("on:")
    assert rows["reads"].startswith("need a token")
    assert rows["dry-run"] == "off: writes go to acme/shop as a token"
    assert rows["database"] == "postgresql+psycopg://triage:***@db:5432/triage"
    assert rows["scheduler"].endswith("to a new issue, daily issue pass")
    text = "\n".join(banner(settings, Start("::1", 80, 0, "token")))
    assert "http://[::1]:80" in text
    for secret in (*SECRETS.values(), "db-pass-42", "ghp_"):
        assert secret not in text


@pytest.mark.parametrize(
    ("values", "auth", "expected"),
    [
        (
            {"github_repository": "acme/shop", "github_dry_run": True},
            "app",
            "on: TRIAGE_GITHUB_DRY",
        ),
        ({}, "token", "on: TRIAGE_GITHUB_REPOSITORY is not set"),
        (
            {"github_repository": "acme/shop"},
            "app",
            "off: writes go to acme/shop as the GitHub App",
        ),
    ],
)
def test_banner_says_why_github_writes_are_dry(
    values: dict[str, object], auth: str, expected: str
) -> None:
    assert _rows(_settings(**values), auth)["dry-run"].startswith(expected)


def test_banner_of_sender_and_scheduler_turned_off() -> None:
    rows = _rows(_settings(outbox_sender_enabled=False, scheduler_enabled=False))
    assert rows["sender"].startswith("off: TRIAGE_OUTBOX_SENDER_ENABLED is false")
    assert rows["scheduler"].startswith("off: TRIAGE_SCHEDULER_ENABLED is false")


def test_the_default_database_is_absolute_under_the_data_dir(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings()
    assert settings.data_dir == clean_env / "xdg" / "triage-bot"
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'triage.db'}"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the XDG spec ignores it
    monkeypatch.setenv("HOME", str(clean_env / "home"))
    assert _settings().data_dir == clean_env / "home" / ".local" / "share" / "triage-bot"
    monkeypatch.setenv("TRIAGE_DATA_DIR", "data")  # relative: made absolute at load
    assert _settings().data_dir == clean_env / "elsewhere" / "data"
    explicit = _settings(database_url="sqlite:////srv/x.db")
    assert explicit.database_url == "sqlite:////srv/x.db"
    assert not explicit.database_in_data_dir()


def test_a_command_creates_the_data_dir_and_names_the_database(clean_env: Path) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    place = clean_env / "xdg" / "triage-bot" / "triage.db"
    assert place.is_file()
    assert list((clean_env / "elsewhere").iterdir()) == []  # nothing in the current folder
    assert result.stderr.splitlines() == [f"database: sqlite:///{place}"]
    status = CliRunner().invoke(app, ["outbox", "status"])
    assert status.exit_code == 0, status.output
    assert status.stderr.splitlines() == [f"database: sqlite:///{place}"]
    weekly = CliRunner().invoke(app, ["report", "weekly"])
    assert weekly.exit_code == 1  # nothing ingested yet
    assert weekly.stderr.splitlines()[0] == f"database: sqlite:///{place}"


def test_a_relative_sqlite_url_is_named_with_its_absolute_path(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "sqlite:///here.db")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"database: sqlite:///{clean_env / 'elsewhere' / 'here.db'}"
    assert not (clean_env / "xdg").exists()  # an explicit URL wins over the data dir


def test_a_database_that_cannot_be_opened_is_named_in_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "postgresql+psycopg://app:hunter2@127.0.0.1:1/x")
    result = CliRunner().invoke(app, ["outbox", "show"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: database: cannot open the postgresql database")
    assert line.endswith("(postgresql+psycopg://app:***@127.0.0.1:1/x)")
    assert "hunter2" not in result.output


def test_a_data_dir_that_cannot_be_made_is_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = clean_env / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(blocker / "data"))
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: database: cannot create the data directory {blocker / 'data'}")


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    clean.update(PYTHONPATH=str(REPO), TRIAGE_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", *args], cwd=tmp_path, env=clean,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _healthz(port: int, process: subprocess.Popen[str]) -> int | None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code
        except httpx.TransportError:
            time.sleep(0.2)
    return None


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=60)
    return output


@pytest.mark.parametrize("by_option", [False, True])
def test_serve_listens_where_triage_host_and_port_say(tmp_path: Path, by_option: bool) -> None:
    port, other = free_port(), free_port()
    # With --port, the option wins over TRIAGE_PORT (which then names a port nobody uses).
    args = ("--port", str(port)) if by_option else ()
    env_port = other if by_option else port
    process = _serve(tmp_path, *args, TRIAGE_HOST="127.0.0.1", TRIAGE_PORT=str(env_port))
    try:
        status = _healthz(port, process)
    finally:
        output = _stop(process)
    assert status == 200, output
    assert output.count("triage-bot serving on ") == 1
    assert f"triage-bot serving on http://127.0.0.1:{port}\n" in output
    assert f"database   sqlite:///{tmp_path / 'data' / 'triage.db'}" in output
    assert (tmp_path / "data" / "triage.db").is_file()
    assert not (tmp_path / "triage.db").exists()
    assert "uploads    off:" in output
