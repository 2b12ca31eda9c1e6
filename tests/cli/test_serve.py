"""`triage-bot serve` as a real process: starts, answers, says dry-run, never prints secrets."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import free_port

# A Typer app holding only the serve command, as bot.cli composes it.
LAUNCH = (
    "import typer\n"
    "from bot.cli.serve import register\n"
    "app = typer.Typer()\n"
    "app.callback()(lambda: None)\n"
    "register(app)\n"
    "app()\n"
)
SECRETS = {
    "TRIAGE_API_TOKEN": "serve-token-never-printed",
    "TRIAGE_WEBHOOK_SECRET": "serve-hook-secret-never-printed",
}
REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(SECRETS)
    env["TRIAGE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def test_serve_starts_in_dry_run_and_answers(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", LAUNCH, "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready is not None, "serve did not answer"
        assert ready.status_code == 200
        assert ready.json()["dry_run"] is True
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/runs", params={"suite": "s"}, content=b"junk",
            headers={"Authorization": "Bearer " + SECRETS["TRIAGE_API_TOKEN"]},
        )  # fmt: skip
        assert answer.status_code in (400, 422)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "dry-run" in output
    for value in SECRETS.values():
        assert value not in output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"TRIAGE_KNOWLEDGE_DIR": "/nonexistent/knowledge"}, "knowledge base"),
        ({"TRIAGE_MAX_REPORT_BYTES": "lots"}, "invalid TRIAGE_* settings"),
    ],
)
def test_serve_refuses_bad_configuration_in_one_line(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LAUNCH, "serve", "--port", str(free_port())],
        cwd=tmp_path, env=_env(tmp_path, **extra), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
