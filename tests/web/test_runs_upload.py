"""POST /api/v1/runs over HTTP: every format, gzip, idempotency, auth, limits, hostile bodies."""

from __future__ import annotations

import gzip

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.store.tables import FailureRow, Run
from bot.web.app import create_app
from tests.web.conftest import API_TOKEN, auth, make_settings, serving

URL = "/api/v1/runs"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Every upload test runs on real SQLite and on real PostgreSQL."""
    return make_settings(database_url)


PARAMS = {"suite": "staging-e2e", "branch": "main", "commit": "a" * 40}


def counts(settings: Settings) -> tuple[int, int]:
    engine: Engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(select(func.count()).select_from(Run)).scalar_one()
            failures = conn.execute(select(func.count()).select_from(FailureRow)).scalar_one()
    finally:
        engine.dispose()
    return runs, failures


@pytest.mark.parametrize("fmt", ["json", "jsonl", "xml"])
def test_upload_each_format_then_again(
    client: httpx.Client, settings: Settings, reports: dict[str, bytes], fmt: str
) -> None:
    first = client.post(URL, params=PARAMS, content=reports[fmt], headers=auth())
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] is True
    assert body["summary"]["outcomes"]["passed"] == 1
    assert sum(body["summary"]["classifications"].values()) == 3
    stored = counts(settings)
    assert stored[0] == 1
    again = client.post(URL, params=PARAMS, content=reports[fmt], headers=auth())
    assert again.status_code == 200
    assert again.json()["run_id"] == body["run_id"]
    assert again.json()["created"] is False
    assert counts(settings) == stored


def test_gzip_upload_is_the_same_run(
    client: httpx.Client, settings: Settings, reports: dict[str, bytes]
) -> None:
    zipped = gzip.compress(reports["json"])
    headers = {**auth(), "Content-Encoding": "gzip"}
    first = client.post(URL, params=PARAMS, content=zipped, headers=headers)
    assert first.status_code == 201, first.text
    plain = client.post(URL, params=PARAMS, content=reports["json"], headers=auth())
    assert plain.status_code == 200
    assert plain.json()["run_id"] == first.json()["run_id"]
    assert counts(settings)[0] == 1


def test_run_detail_lists_failures_with_classification(
    client: httpx.Client, reports: dict[str, bytes]
) -> None:
    run_id = client.post(URL, params=PARAMS, content=reports["json"], headers=auth()).json()[
        "run_id"
    ]
    detail = client.get(f"/api/v1/runs/{run_id}")
    assert detail.status_code == 200
    failures = {f["nodeid"].rpartition("::")[2]: f for f in detail.json()["failures"]}
    assert set(failures) == {"test_redis_down", "test_product_bug", "test_needs_fixture"}
    redis = failures["test_redis_down"]
    assert redis["known_issue"] == 1029
    assert redis["classification"] == "known"
    assert redis["category"] == "infrastructure"
    assert failures["test_needs_fixture"]["phase"] == "setup"
    assert failures["test_product_bug"]["classification"] == "new"
    assert failures["test_product_bug"]["category"] == "product"
    for failure in failures.values():
        assert set(failure) >= {"nodeid", "phase", "exception", "fingerprint", "rule"}


def test_backfill_with_started_at(client: httpx.Client, reports: dict[str, bytes]) -> None:
    params = {**PARAMS, "started_at": "2026-10-01T08:00:00+00:00", "environment": "qa"}
    run_id = client.post(URL, params=params, content=reports["xml"], headers=auth()).json()[
        "run_id"
    ]
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["started_at"].startswith("2026-10-01T08:00:00")
    assert run["environment"] == "qa"
    assert (run["branch"], run["commit"]) == ("main", "a" * 40)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": API_TOKEN},
        {"Authorization": "Basic x"},
    ],
)
def test_wrong_or_missing_token_is_401(
    client: httpx.Client, settings: Settings, reports: dict[str, bytes], headers: dict[str, str]
) -> None:
    answer = client.post(URL, params=PARAMS, content=reports["json"], headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json()["error"] == "unauthorized"
    assert counts(settings)[0] == 0


def test_no_token_configured_refuses_uploads(sqlite_url: str, reports: dict[str, bytes]) -> None:
    with serving(create_app(make_settings(sqlite_url, api_token=None))) as client:
        answer = client.post(URL, params=PARAMS, content=reports["json"], headers=auth())
    assert answer.status_code == 401
    assert "TRIAGE_API_TOKEN" in answer.json()["detail"]


def test_too_large_by_content_length_and_by_stream(
    client: httpx.Client, settings: Settings
) -> None:
    big = b"{" + b" " * settings.max_report_bytes
    answer = client.post(URL, params=PARAMS, content=big, headers=auth())
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"

    def chunks():  # no Content-Length: chunked transfer
        for _ in range(settings.max_report_bytes // 65536 + 2):
            yield b" " * 65536

    streamed = client.post(URL, params=PARAMS, content=chunks(), headers=auth())
    assert streamed.status_code == 413
    assert counts(settings)[0] == 0


def test_gzip_bomb_is_413(client: httpx.Client, settings: Settings) -> None:
    bomb = gzip.compress(b"{" + b" " * (settings.max_report_bytes + 10))
    assert len(bomb) < settings.max_report_bytes // 100
    headers = {**auth(), "Content-Encoding": "gzip"}
    answer = client.post(URL, params=PARAMS, content=bomb, headers=headers)
    assert answer.status_code == 413
    assert counts(settings)[0] == 0


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (b"", None),
        (b"this is not a report", None),
        (b'{"tests": [', None),
        (b"<testsuites><testsuite", None),
        (b"\x00\xff\xfe\x00binary", None),
        (b'{"$report_type": "SessionStart"}\n{"$report_type": ', None),
        (gzip.compress(b'{"created": 1}', mtime=0)[:-6], "gzip"),
        (b"not gzip at all", "gzip"),
        (b"{}", "br"),
        (b'["a list", "not an object"]', None),
        (
            b"<!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><testsuites>&b;</testsuites>",
            None,
        ),
    ],
)
def test_malformed_bodies_get_a_json_4xx_and_the_service_keeps_serving(
    client: httpx.Client,
    settings: Settings,
    reports: dict[str, bytes],
    body: bytes,
    encoding: str | None,
) -> None:
    client.post(URL, params=PARAMS, content=reports["json"], headers=auth())
    before = counts(settings)
    headers = {**auth(), **({"Content-Encoding": encoding} if encoding else {})}
    answer = client.post(URL, params={**PARAMS, "commit": "b" * 40}, content=body, headers=headers)
    assert answer.status_code in (400, 413, 415, 422), answer.text
    assert set(answer.json()) == {"error", "detail"}
    assert "Traceback" not in answer.text
    assert counts(settings) == before
    assert client.get("/healthz").status_code == 200
    assert (
        client.post(URL, params=PARAMS, content=reports["json"], headers=auth()).status_code == 200
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"suite": ""},
        {"suite": "s", "started_at": "yesterday"},
        {"suite": "x" * 201},
        {"suite": "bad\x01name"},
    ],
)
def test_bad_metadata_is_422_or_400(
    client: httpx.Client, reports: dict[str, bytes], params: dict[str, str]
) -> None:
    answer = client.post(URL, params=params, content=reports["json"], headers=auth())
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"] in {"invalid_request", "bad_meta"}
