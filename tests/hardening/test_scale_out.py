"""Services sharing one PostgreSQL: one run per report, one weekly report, each comment once."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bench.http import CLI, free_port, service_env, wait_ready
from bot.core.intents import marker
from tests.github_server import TOKEN, running_github
from tests.hardening.conftest import StartService, gz, gz_headers, report, run_rows
from tests.hardening.test_crash_outbox import _drain

REPORTS, COPIES = 10, 4
ISSUES = (623, 1029, 1086, 1087, 1111)


def _last_week_days() -> list[datetime]:
    """Five weekday mornings of the last complete ISO week (UTC), where the runs are backfilled."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return [datetime.combine(monday + timedelta(days=d), dtime(6), UTC) for d in range(5)]


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _upload(base: str, body: bytes, at: datetime) -> httpx.Response:
    params = {"suite": "staging-e2e", "started_at": at.isoformat()}
    return httpx.post(
        f"{base}/api/v1/runs", params=params, content=gz(body), headers=gz_headers(), timeout=120
    )


def _start_together(
    url: str, count: int, cwd: Path, extra: dict[str, str]
) -> list[subprocess.Popen[bytes]]:
    """Start `count` services with the scheduler at once, so their start-up catch-ups race."""
    env = service_env(url, extra | {"TRIAGE_SCHEDULER_ENABLED": "true"})
    ports = [free_port() for _ in range(count)]
    procs = [
        subprocess.Popen([str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
                         cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in ports
    ]  # fmt: skip
    for port, proc in zip(ports, procs, strict=True):
        wait_ready(f"http://127.0.0.1:{port}", proc)
    return procs


def _settled(url: str) -> bool:
    """Tell whether the outbox has no pending row left."""
    return not _query(url, "SELECT 1 FROM outbox WHERE state = 'pending'")


@pytest.mark.slow
@pytest.mark.postgres
def test_two_services_share_one_postgres(
    start_service: StartService, postgres_url: str, tmp_path: Path
) -> None:
    with running_github() as github:
        for number in ISSUES:
            github.add_issue(number)
        live = {
            "TRIAGE_GITHUB_TOKEN": TOKEN,
            "TRIAGE_GITHUB_API_URL": github.base_url,
            "TRIAGE_GITHUB_REPOSITORY": github.repo,
            "TRIAGE_OUTBOX_SENDER_ENABLED": "true",
            "TRIAGE_OUTBOX_MIN_INTERVAL_S": "0",
        }
        # Two services, each with its own outbox sender, behind one PostgreSQL.
        bases = [start_service(postgres_url, **live)[0] for _ in range(2)]
        _check_uploads(bases, postgres_url)
        # Two more, started at once with the scheduler: their start-up catch-ups race.
        procs = _start_together(postgres_url, 2, tmp_path, live)
        drain = _drain(postgres_url, github, tmp_path)  # and a fifth sender, the CLI's
        try:
            deadline = time.monotonic() + 90
            while not (_query(postgres_url, "SELECT 1 FROM weekly_report_claims")
                       and _settled(postgres_url)):  # fmt: skip
                assert time.monotonic() < deadline, "the outbox did not empty"
                time.sleep(0.2)
            out, _ = drain.communicate(timeout=120)
            assert drain.returncode == 0, out.decode()
        finally:
            for proc in [*procs, drain]:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(30)
            if drain.stdout is not None:
                drain.stdout.close()
        comments = list(github.comments.values())
    assert len(_query(postgres_url, "SELECT suite, iso_week FROM weekly_report_claims")) == 1
    outbox = _query(postgres_url, "SELECT kind, payload, state FROM outbox")
    assert {state for _, _, state in outbox} <= {"sent", "superseded"}, outbox
    tags = {_tag(str(kind), _payload(payload)) for kind, payload, _ in outbox}
    assert any(tag.startswith("weekly:") for _, tag in tags)
    for issue, tag in tags:
        posted = [c for c in comments if c["issue"] == issue and marker(tag) in c["body"]]
        assert len(posted) == 1, (issue, tag, len(posted))
    assert len(comments) == len(tags)


def _check_uploads(bases: list[str], url: str) -> None:
    """Send each report four times over both services at once: one run each, all complete."""
    days = _last_week_days()
    jobs = [(bases[k % 2], report(300, 60, 500 + i), days[i % 5])
            for i in range(REPORTS) for k in range(COPIES)]  # fmt: skip
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda job: _upload(*job), jobs))
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    assert sorted(a.status_code for a in answers).count(201) == REPORTS
    by_report = [{a.json()["run_id"] for a in answers[i * COPIES : (i + 1) * COPIES]}
                 for i in range(REPORTS)]  # fmt: skip
    assert all(len(ids) == 1 for ids in by_report)
    rows = run_rows(url)
    assert len(rows) == REPORTS
    assert all(count == stored == 60 for _, count, stored in rows)


def _payload(value: object) -> dict[str, object]:
    data = json.loads(value) if isinstance(value, str) else value
    assert isinstance(data, dict)
    return data


def _tag(kind: str, payload: dict[str, object]) -> tuple[int, str]:
    """The issue and marker of this row's comment: the upsert's marker, else the row's key."""
    issue = payload["issue"]
    assert isinstance(issue, int)
    return issue, str(payload["marker"] if kind == "UpsertComment" else payload["key"])
