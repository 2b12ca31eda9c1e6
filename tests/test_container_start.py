"""The image's start command and healthcheck, run outside Docker with the image's settings."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.test_dockerfile import REPO_ROOT, compose, env_of, exec_form, runtime_stage

TOKEN = "container-start-token-8d1e"
CONTAINER_PORT = "8000"


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_command(port: int) -> list[str]:
    """Return the image's CMD, bound to 127.0.0.1 and the given port, from this venv."""
    command = exec_form(runtime_stage(), "CMD")
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    program = Path(sys.executable).parent / command[0]
    assert program.exists(), f"{program} is missing: install the project (pip install -e .)"
    return [str(program), *command[1:]]


def start_env(database_url: str) -> dict[str, str]:
    """Return the environment the container gets from the image and compose.yaml, made local."""
    local = {
        "TRIAGE_DATABASE_URL": database_url,
        "TRIAGE_API_TOKEN": TOKEN,
        "TRIAGE_KNOWLEDGE_DIR": str(REPO_ROOT / "knowledge"),
    }
    from_compose = set(compose()["services"]["triage"]["environment"])
    assert from_compose <= set(local), (
        f"give the test a local value for {from_compose - set(local)}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(env_of(runtime_stage()))
    env.update(local)
    return env


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /healthz until it answers 200; fail if the process dies or 60 s pass."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited early:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"/healthz did not answer 200 within 60 s:\n{log.read_text()}")


def schema_version(database_url: str) -> str | None:
    """Return the Alembic revision stored in the database, or None."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    else:
        plain = database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


@pytest.mark.slow
def test_start_command_migrates_serves_healthz_and_stops(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            start_command(port),
            env=start_env(database_url),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process, log)
        check = exec_form(runtime_stage(), "HEALTHCHECK")
        assert check[0] == "python"
        check[0] = sys.executable  # the image's python, here this venv's
        check[-1] = check[-1].replace(f"127.0.0.1:{CONTAINER_PORT}", f"127.0.0.1:{port}")
        probe = subprocess.run(check, capture_output=True, timeout=30, check=False)
        assert probe.returncode == 0, probe.stderr
        assert schema_version(database_url)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = log.read_text()
    assert process.returncode in {0, -signal.SIGTERM}, output
    assert "Traceback" not in output
    assert TOKEN not in output
