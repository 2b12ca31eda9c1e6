"""Light commands import nothing of the server: checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.model import ReportFormat
from tests.core.report_helpers import run_pytest_reports

SERVER = ("sqlalchemy", "sqlmodel", "alembic", "fastapi", "starlette", "github", "uvicorn",
          "apscheduler", "psycopg", "httpx")  # fmt: skip
# The light commands do not even read the service's settings (pydantic itself comes with Typer).
SETTINGS = ("pydantic_settings", "dotenv")
ROOT = Path(__file__).resolve().parents[2]

# Runs the console script's entry point, then lists the top-level packages it loaded.
WRAPPER = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write(
    "LOADED " + json.dumps(sorted({m.partition(".")[0] for m in sys.modules})) + "\\n"))
sys.argv = ["triage-bot", *sys.argv[1:]]
from bot.cli import main
main()
"""


PLUGIN_WRAPPER = """
import json, sys
import bot.pytest_plugin
print(json.dumps(sorted({m.partition(".")[0] for m in sys.modules})))
"""


def loaded_by(*args: str) -> tuple[int, str, set[str]]:
    """Run `triage-bot ARGS` in a fresh interpreter; return exit code, stdout, packages."""
    env = {**os.environ, "TRIAGE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT, env=env,
    )  # fmt: skip
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    return done.returncode, done.stdout, set(json.loads(line.removeprefix("LOADED ")))


def test_classify_imports_nothing_of_the_server(pytester: pytest.Pytester) -> None:
    report = run_pytest_reports(pytester, "def test_x():\n    assert 1 == 2\n")
    code, out, packages = loaded_by("classify", str(report[ReportFormat.JSON_REPORT]))
    assert code == 0, out
    assert "test_x" in out
    assert "bot" in packages  # the wrapper really ran the command
    assert packages.isdisjoint(SERVER + SETTINGS), sorted(packages & {*SERVER, *SETTINGS})


LIGHT = [("kb", "validate", str(ROOT / "knowledge")), ("classify", "--help"), ("gate", "--help")]


@pytest.mark.parametrize("args", LIGHT)
def test_light_commands_import_neither_the_server_nor_its_settings(args: tuple[str, ...]) -> None:
    code, out, packages = loaded_by(*args)
    assert code == 0, out
    assert "typer" in packages
    assert packages.isdisjoint(SERVER + SETTINGS), sorted(packages & {*SERVER, *SETTINGS})


@pytest.mark.parametrize("args", [("--help",), ("kb", "validate")])
def test_help_and_kb_validate_import_nothing_of_the_server(args: tuple[str, ...]) -> None:
    # Both read the service's settings where they are installed (the command list, the
    # knowledge directory), yet no server library.
    code, out, packages = loaded_by(*args)
    assert code == 0, out
    assert packages.isdisjoint(SERVER), sorted(packages & set(SERVER))


def test_the_pytest_plugin_imports_only_pytest_and_the_standard_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PLUGIN_WRAPPER],
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT,
    )  # fmt: skip
    packages = set(json.loads(done.stdout))
    assert "bot" in packages
    heavy = {*SERVER, *SETTINGS, "pydantic", "typer", "rich", "re2", "ijson", "defusedxml"}
    assert packages.isdisjoint(heavy), sorted(packages & heavy)


def test_the_server_commands_still_load_it() -> None:
    # The check can fail: a command that needs the database does import SQLAlchemy.
    code, _, packages = loaded_by("db", "upgrade")
    assert code == 2  # nothing listens on port 1
    assert "sqlalchemy" in packages


def test_python_dash_m_bot_is_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "classify" in done.stdout
    assert "serve" in done.stdout
