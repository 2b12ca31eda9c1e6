"""Zip-slip and zip-bomb artifacts through the real workflow_run webhook path are refused."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bench.http import running_service
from tests.github_server import TOKEN, GitHubState, running_github
from tests.hardening.conftest import report, run_rows, signature

LIMIT = 10 * 1024 * 1024
Setup = tuple[str, str, GitHubState, int]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """A service whose GitHub is the fake server: (base, database URL, fake state, pid)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('artifacts') / 'triage.db'}"
    with running_github() as github:
        env = {
            "TRIAGE_GITHUB_TOKEN": TOKEN,
            "TRIAGE_GITHUB_API_URL": github.base_url,
            "TRIAGE_GITHUB_REPOSITORY": github.repo,
            "TRIAGE_MAX_REPORT_BYTES": str(LIMIT),
        }
        with running_service(url, extra_env=env) as (base, proc):
            yield base, url, github, proc.pid


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bomb_zip(size: int) -> bytes:
    """A zip whose one report.json inflates to `size` zero bytes, written without holding them."""
    buffer = io.BytesIO()
    block = bytes(1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("report.json", "w", force_zip64=True) as member,
    ):
        for _ in range(size >> 20):
            member.write(block)
    return buffer.getvalue()


def _deliver(base: str, run_id: int) -> str:
    payload = {
        "action": "completed",
        "workflow_run": {"id": run_id, "name": "staging-e2e", "head_branch": "main",
                         "head_sha": "a" * 40, "html_url": f"https://example.invalid/runs/{run_id}",
                         "run_started_at": "2026-11-20T08:00:00Z", "conclusion": "failure",
                         "run_attempt": 1},
        "repository": {"full_name": "acme/widgets"},
    }  # fmt: skip
    body = json.dumps(payload).encode()
    guid = str(uuid.uuid4())
    headers = {
        "X-GitHub-Event": "workflow_run",
        "X-GitHub-Delivery": guid,
        "X-Hub-Signature-256": signature(body),
        "Content-Type": "application/json",
    }
    answer = httpx.post(f"{base}/api/v1/github/webhook", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    return guid


def _finished(url: str, guid: str) -> tuple[str, str]:
    engine = create_engine(url)
    deadline = time.monotonic() + 60
    try:
        while True:
            with engine.connect() as conn:
                row = conn.execute(
                    text("SELECT status, outcome FROM webhook_deliveries WHERE guid = :g"),
                    {"g": guid},
                ).one()
            if row[0] not in ("pending", "processing"):
                return str(row[0]), str(row[1])
            assert time.monotonic() < deadline, f"delivery still {row[0]}"
            time.sleep(0.05)
    finally:
        engine.dispose()


def _peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(
        int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")
    )


def test_a_clean_artifact_is_ingested(setup: Setup) -> None:
    base, url, github, _ = setup
    github.add_artifact(7001, "pytest-report", _zip({"out/report.json": report(30, 6, 71)}))
    status, outcome = _finished(url, _deliver(base, 7001))
    assert status == "done", outcome
    assert len(run_rows(url)) == 1


@pytest.mark.parametrize(
    "name", ["../../evil.json", "/etc/evil.json", "a/../../evil.json", "..\\..\\evil.json"]
)
def test_zip_slip_artifact_is_refused(setup: tuple[str, str, GitHubState, int], name: str) -> None:
    base, url, github, _ = setup
    before = run_rows(url)
    run_id = 7100 + abs(hash(name)) % 800
    github.add_artifact(run_id, "pytest-report", _zip({name: report(30, 6, 72)}))
    status, outcome = _finished(url, _deliver(base, run_id))
    assert status == "failed", outcome
    assert "unsafe_artifact" in outcome or "traversal" in outcome or "absolute" in outcome
    assert run_rows(url) == before


def test_zip_bomb_artifact_is_refused_with_bounded_memory(
    setup: tuple[str, str, GitHubState, int],
) -> None:
    base, url, github, pid = setup
    before = run_rows(url)
    bomb = _bomb_zip(1024 << 20)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 2 * 1024 * 1024
    github.add_artifact(7999, "pytest-report", bomb)
    status, outcome = _finished(url, _deliver(base, 7999))
    assert status == "failed", outcome
    assert "too_large" in outcome or "too large" in outcome or "limit" in outcome
    assert run_rows(url) == before
    assert _peak_rss(pid) < 400 * 1024 * 1024
