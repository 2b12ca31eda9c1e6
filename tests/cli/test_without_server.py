"""Without the server extra: light commands work, server commands say what to install.

A fresh interpreter is made unable to import the server's libraries, as in an install of
`triage-bot` without `[server]` (tests/cli/test_wheel.py checks a real one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import SERVER_COMMANDS, build_app, is_light, kb, main
from bot.core.model import ReportFormat
from tests.core.report_helpers import run_pytest_reports

ROOT = Path(__file__).resolve().parents[2]
SERVER_LIBRARIES = ("pydantic_settings", "sqlalchemy", "sqlmodel", "alembic", "fastapi",
                    "starlette", "uvicorn", "github", "apscheduler", "psycopg",
                    "httpx")  # fmt: skip
INSTALL = "pip install 'triage-bot[server]'"

# Fails the import of the listed packages, then runs the console script's entry point.
WRAPPER = """
import json, os, sys
BLOCKED = set(json.loads(os.environ["BLOCKED"]))

class Uninstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Uninstalled())
sys.argv = ["triage-bot", *sys.argv[1:]]
if sys.argv[1:] == ["--list"]:
    import typer
    from bot.cli import app
    def paths(group, prefix=()):
        for name, command in group.commands.items():
            yield " ".join((*prefix, name))
            yield from paths(command, (*prefix, name)) if hasattr(command, "commands") else ()
    print(json.dumps(sorted(paths(typer.main.get_command(app)))))
else:
    from bot.cli import main
    main()
"""


def run(
    *args: str,
    blocked: tuple[str, ...] = SERVER_LIBRARIES,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `triage-bot ARGS` in a fresh interpreter that cannot import `blocked`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    environ.update(env or {}, BLOCKED=json.dumps(blocked))
    return subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=environ,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (("serve",), "triage-bot serve"),
        (("serve", "--help"), "triage-bot serve"),
        (("db", "upgrade"), "triage-bot db"),
        (("ingest", "--suite", "s", "report.json"), "triage-bot ingest"),
        (("kb", "backtest", "--since", "2026-01-01"), "triage-bot kb backtest"),
        (("outbox", "drain"), "triage-bot outbox"),
        (("report", "week"), "triage-bot report"),
    ],
)
def test_a_server_command_says_what_to_install_in_one_line(
    args: tuple[str, ...], command: str
) -> None:
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        f"error: `{command}` needs the server: {INSTALL} (no module named 'pydantic_settings')\n"
    )


def test_a_library_a_command_imports_late_is_named_too() -> None:
    # Settings load, then the database layer is missing: still one line, no traceback.
    done = run("db", "upgrade", blocked=("sqlalchemy", "sqlmodel", "alembic"))
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"error: this command needs the server: {INSTALL} (no module named 'sqlalchemy')\n"
    )


def test_the_light_commands_work(pytester: pytest.Pytester) -> None:
    done = run("kb", "validate", str(ROOT / "knowledge"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 5 known issues, ")
    reports = run_pytest_reports(pytester, "def test_x(real_services):\n    pass\n")
    done = run("classify", "--format", "json", str(reports[ReportFormat.JSON_REPORT]))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["known_issue"] == 623


def test_kb_validate_without_settings_checks_the_variable_or_the_shipped_base(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("TRIAGE_KNOWLEDGE_DIR=/nowhere\n")  # not read without them
    done = run("kb", "validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 5 known issues, ")
    missing = tmp_path / "missing"
    done = run("kb", "validate", cwd=tmp_path, env={"TRIAGE_KNOWLEDGE_DIR": str(missing)})
    assert done.returncode == 1
    assert done.stderr == f"error: {missing}: not a directory\n"


def test_help_lists_every_command_with_or_without_the_server() -> None:
    with_server, without = run("--list", blocked=()), run("--list")
    assert with_server.returncode == without.returncode == 0, with_server.stderr + without.stderr
    # Each server module's command (a group's subcommands aside) has its stand-in, so the
    # table of server commands is what the server modules really register.
    real = {p for p in json.loads(with_server.stdout) if " " not in p or p.startswith("kb ")}
    assert real == set(json.loads(without.stdout))
    assert {" ".join(path) for path in SERVER_COMMANDS.values()} < real
    listing = run("--help")
    assert listing.returncode == 0
    assert "serve" in listing.stdout
    assert "Needs the server extra" in listing.stdout


@pytest.fixture
def without_settings_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process: pydantic-settings cannot be imported, nor what needs it (until undone)."""
    needs_it = {"bot.config", *(f"bot.cli.{name}" for name in SERVER_COMMANDS)}
    for name in needs_it & set(sys.modules):
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pydantic_settings", None)  # import raises; name is set
    # The stand-in of `kb backtest` joins kb's group, which outlives the test: on a copy.
    commands = kb.kb_app.registered_commands
    monkeypatch.setattr(kb.kb_app, "registered_commands", list(commands))


def test_in_process_the_stand_ins_and_the_light_kb_validate(
    without_settings_library: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = build_app()
    runner = CliRunner()
    done = runner.invoke(app, ["outbox", "status"])
    assert done.exit_code == 2
    assert f"`triage-bot outbox` needs the server: {INSTALL}" in done.stderr
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_KNOWLEDGE_DIR", str(tmp_path / "missing"))
    done = runner.invoke(app, ["kb", "validate"])
    assert done.exit_code == 1
    assert done.stderr == f"error: {tmp_path / 'missing'}: not a directory\n"


@pytest.mark.parametrize(
    ("args", "light"),
    [
        (["classify", "r.json"], True),
        (["gate", "--help"], True),
        (["kb", "validate"], True),
        (["kb", "backtest"], False),
        (["kb"], False),
        (["--help"], False),
        ([], False),
        (["serve"], False),
    ],
)
def test_which_command_lines_are_light(args: list[str], light: bool) -> None:
    assert is_light(args) is light


def test_main_names_a_library_missing_when_the_command_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The composition root is imported again, and needs Alembic, which is "not installed".
    for name in {"bot.compose", "bot.store.migrate"} & set(sys.modules):
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "alembic", None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setattr(sys, "argv", ["triage-bot", "db", "upgrade"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"error: this command needs the server: {INSTALL} (no module named 'alembic')\n"
    )


def test_main_runs_a_light_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["triage-bot", "kb", "validate", str(ROOT / "knowledge")])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("ok: 5 known issues, ")
