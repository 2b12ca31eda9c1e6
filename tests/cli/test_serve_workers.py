"""`triage-bot serve --workers N`: several processes on PostgreSQL, refused on SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_DATABASE_URL=database_url, TRIAGE_API_TOKEN="t", PYTHONPATH=str(REPO))
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("args", "extra"), [(["--workers", "2"], {}), ([], {"TRIAGE_WORKERS": "3"})]
)
def test_more_than_one_worker_is_refused_on_sqlite(
    sqlite_url: str, tmp_path: Path, args: list[str], extra: dict[str, str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", str(free_port()), *args],
        cwd=tmp_path, env=_env(sqlite_url, **extra), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: --workers ")
    assert "needs PostgreSQL" in line


@pytest.mark.postgres
def test_two_workers_serve_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env=_env(postgres_url), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        answers: list[int] = []
        while time.monotonic() < deadline and process.poll() is None and len(answers) < 5:
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answers == [200] * 5
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    workers = set(re.findall(r"Started server process \[(\d+)\]", output))
    assert len(workers) == 2, output
