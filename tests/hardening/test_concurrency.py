"""50 concurrent uploads lose nothing; concurrent duplicate uploads store one run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.hardening.conftest import StartService, gz, gz_headers, report, run_rows

UPLOADS = 50
TESTS, FAILURES = 200, 40


def _upload(base: str, body: bytes, suite: str) -> httpx.Response:
    with httpx.Client(timeout=120) as client:
        return client.post(
            f"{base}/api/v1/runs", params={"suite": suite}, content=gz(body), headers=gz_headers()
        )


@pytest.mark.slow
def test_fifty_concurrent_distinct_uploads_are_all_stored(
    start_service: StartService, database_url: str
) -> None:
    base, _ = start_service(database_url)
    bodies = [report(TESTS, FAILURES, seed) for seed in range(UPLOADS)]
    with ThreadPoolExecutor(UPLOADS) as pool:
        answers = list(
            pool.map(lambda i: _upload(base, bodies[i], f"suite-{i % 5}"), range(UPLOADS))
        )
    assert [a.status_code for a in answers] == [201] * UPLOADS, [
        a.text for a in answers if a.status_code != 201
    ]
    ids = {a.json()["run_id"] for a in answers}
    assert len(ids) == UPLOADS
    rows = run_rows(database_url)
    assert {r[0] for r in rows} == ids
    assert all(count == FAILURES and stored == FAILURES for _, count, stored in rows)
    listed = httpx.get(f"{base}/api/v1/runs", params={"per_page": 100}).json()
    assert listed["total"] == UPLOADS


@pytest.mark.slow
def test_concurrent_duplicate_uploads_give_one_run(
    start_service: StartService, database_url: str
) -> None:
    base, _ = start_service(database_url)
    body = report(TESTS, FAILURES, 999)
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: _upload(base, body, "dup"), range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 19 + [201], [a.text for a in answers]
    assert len({a.json()["run_id"] for a in answers}) == 1
    rows = run_rows(database_url)
    assert len(rows) == 1
    assert rows[0][1:] == (FAILURES, FAILURES)
