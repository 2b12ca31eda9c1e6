"""The objective API and the dashboard over real HTTP, on a seeded six-week history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import insert
from sqlmodel import SQLModel

from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.tables import load_all_tables
from bot.web.app import create_app
from tests.services.objective_history import load_scenario, seed
from tests.web.conftest import make_settings, serving

NOW = datetime.fromisoformat("2026-11-16T08:00:00+00:00")
EVIL = "tests/e2e/test_x.py::test_<script>alert(1)</script>"


def seeded(database_url: str) -> None:
    """Migrate, then load the six-week scenario plus one failure with hostile text."""
    upgrade(database_url)
    engine = make_engine(database_url)
    load_all_tables()
    seed(engine, load_scenario("six_weeks"))
    row = {
        "run_id": 1, "suite": "staging", "environment": "", "started_at": NOW.replace(day=15),
        "nodeid": EVIL, "phase": "call", "outcome": "failed", "exception": "E",
        "chain": "", "message": "<img src=x onerror=alert(2)>", "text": "", "keywords": "",
        "fingerprint": "evil", "signature_version": 1, "classification": "flaky",
        "category": "product",
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(SQLModel.metadata.tables["failures"]).values(**row))
    engine.dispose()


@pytest.fixture
def site(database_url: str) -> Iterator[httpx.Client]:
    seeded(database_url)
    app = create_app(make_settings(database_url))
    app.state.context.clock = lambda: NOW
    with serving(app) as http:
        yield http


def test_objective_api(site: httpx.Client) -> None:
    body = site.get("/api/v1/objective", params={"suite": "staging"}).json()
    assert body["suite"] == "staging"
    assert datetime.fromisoformat(body["at"]) == NOW
    assert (body["streak_days"], body["window_clean"], body["met"]) == (13, False, False)
    assert body["coverage"] == pytest.approx(28 / 30, abs=1e-4)
    assert body["last_regression"]["nodeid"].endswith("test_auth_token_refresh")
    assert body["last_regression"]["reason"].startswith("new: socket.gaierror")
    assert [r["streak_before_days"] for r in body["resets"]] == [9, 14, 1, 5]


def test_objective_api_at(site: httpx.Client) -> None:
    body = site.get(
        "/api/v1/objective", params={"suite": "staging", "at": "2026-10-13T12:00:00Z"}
    ).json()
    assert (body["streak_days"], body["last_regression"], body["resets"]) == (8, None, [])
    naive = site.get("/api/v1/objective", params={"suite": "staging", "at": "2026-10-13T12:00"})
    assert naive.json()["at"].startswith("2026-10-13T12:00:00")


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"suite": "staging", "at": "yesterday"}, 422, "bad_timestamp"),
        ({"suite": "nope"}, 404, "unknown_suite"),
        ({}, 422, "invalid_request"),
    ],
)
def test_objective_api_errors(
    site: httpx.Client, params: dict[str, str], status: int, reason: str
) -> None:
    answer = site.get("/api/v1/objective", params=params)
    assert answer.status_code == status
    assert answer.json()["error"] == reason


def test_dashboard_page(site: httpx.Client) -> None:
    answer = site.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    for section in ("objective", "known-issues", "runs", "clusters", "flaky", "resets"):
        assert f'id="{section}"' in page
    assert "13 days (13/30 days)" in page
    for drawn in ("<svg", "<rect", "#1086 ClickHouse unreachable"):
        assert drawn in page
    assert "<script" not in page
    assert "<img" not in page
    assert "test_&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert site.get("/", params={"suite": "nope"}).status_code == 404


def test_dashboard_without_runs(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    with serving(app) as http:
        page = http.get("/").text
    assert "No run ingested yet." in page


def test_criteria_api(site: httpx.Client) -> None:
    body = site.get("/api/v1/criteria", params={"suite": "staging", "week": "2026-W45"}).json()
    assert body["week"] == "2026-W45"
    got = {v["id"]: v["status"] for v in body["verdicts"]}
    assert got["pass-chat"] == "not met"
    assert got["reports-daily"] == "met"
    chat = next(v for v in body["verdicts"] if v["id"] == "pass-chat")
    assert chat["evidence"].startswith("71.4% passed")
    default = site.get("/api/v1/criteria", params={"suite": "staging"}).json()
    assert default["week"] == "2026-W46"  # the last complete week at NOW (Monday of W47)
    bad = site.get("/api/v1/criteria", params={"suite": "staging", "week": "W9"})
    assert bad.status_code == 422
    assert "pattern" in bad.text  # the OpenAPI document declares the 2026-W47 shape
    no_such = site.get("/api/v1/criteria", params={"suite": "staging", "week": "2026-W99"})
    assert (no_such.status_code, no_such.json()["error"]) == (422, "bad_week")
    assert site.get("/api/v1/criteria", params={"suite": "nope"}).status_code == 404
