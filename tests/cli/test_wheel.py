"""The wheel without the server extra, installed in a fresh venv, is a working CI client."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.model import ReportFormat
from tests.core.report_helpers import run_pytest_reports

ROOT = Path(__file__).resolve().parents[2]
SUITE = """
def test_fixture(real_services):
    pass

def test_product():
    assert 1 + 1 == 3
"""
SERVER_MODULES = ("fastapi", "sqlalchemy", "pydantic_settings", "uvicorn", "github", "alembic")


def clean_env() -> dict[str, str]:
    """The environment without settings, and without anything that points at this checkout."""
    drop = ("TRIAGE_", "PYTHON", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True, text=True, timeout=600, check=False, cwd=cwd, env=clean_env(),
    )  # fmt: skip


@pytest.fixture(scope="session")
def light_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the sources and install it, without extras, in a venv."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    # bot/knowledge_base is a link to ../knowledge: copied as a link, as in the repository.
    shutil.copytree(ROOT / "bot", src / "bot", symlinks=True, ignore=skip)
    shutil.copytree(ROOT / "knowledge", src / "knowledge", ignore=skip)
    built = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", "dist", src,
                cwd=work)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("triage_bot-*.whl")
    venv = work / "venv"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    assert made.returncode == 0, made.stderr
    # This pip installs into the new venv: light dependencies from the package registry (its
    # cache makes a rerun quick), at the pinned versions; no byte-compiling, for speed. pytest
    # as a CI job has it, for the plugin.
    installed = run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
                    "--quiet", "--no-compile", "-c", ROOT / "constraints.txt", wheel, "pytest",
                    cwd=work)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return venv


@pytest.mark.slow
def test_the_wheel_without_the_server_extra_classifies_and_validates(
    light_venv: Path, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    report = run_pytest_reports(pytester, SUITE)[ReportFormat.JSON_REPORT]
    command = light_venv / "bin" / "triage-bot"

    # From a folder that is not the checkout: the knowledge base comes with the package.
    done = run(command, "classify", report, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "#623" in done.stdout
    assert "Fixture 'real_services' not found" in done.stdout
    assert "known: 1  unknown: 1" in done.stdout

    done = run(command, "kb", "validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 5 known issues, ")

    # pytest finds the plugin through its entry point.
    done = run(light_venv / "bin" / "pytest", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--triage-url=URL" in done.stdout

    # The server is not there, and a server command says what to install.
    for module in SERVER_MODULES:
        done = run(light_venv / "bin" / "python", "-c", f"import {module}", cwd=tmp_path)
        assert done.returncode == 1, module
        assert "ModuleNotFoundError" in done.stderr
    done = run(command, "serve", cwd=tmp_path)
    assert done.returncode == 2
    assert "pip install 'triage-bot[server]'" in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
