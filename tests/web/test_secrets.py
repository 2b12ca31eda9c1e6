"""Credentials in real reports are masked before they are stored: no route, page or row has them.

And TRIAGE_READ_TOKEN: reads need it when it is set (Bearer or Basic), health stays open.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from bot.config import Settings
from bot.web.app import create_app
from tests.web.conftest import auth, make_settings, serving

SECRET = "PASS"
SECRET_SUITE = """
import pytest

@pytest.mark.parametrize(
    "target",
    ["postgres://u:PASS@db.internal/app", "password=PASS", "https://user:PASS@ci.example/x"],
    ids=["postgres://u:PASS@db.internal/app", "password=PASS", "https://user:PASS@ci.example/x"],
)
def test_connect(target):
    raise ConnectionError(f"cannot reach postgres://u:PASS@db.internal:5432/app ({target})")

def test_fetch():
    assert False, "GET https://user:PASS@ci.example/artifacts failed, password=PASS"

def test_redis():
    raise ConnectionError("Error 111 connecting to redis.staging:6379. Connection refused.")
"""
CI_URL = "https://user:PASS@ci.example/runs/7"
READ_TOKEN = "read-token-41c9e0d2"


def _report(tmp_path: Path, fmt: str) -> bytes:
    (tmp_path / "test_secret.py").write_text(SECRET_SUITE)
    option = {
        "json": ["--json-report", "--json-report-file=report"],
        "jsonl": ["--report-log=report"],
        "xml": ["--junitxml=report"],
    }[fmt]
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *option,
         "test_secret.py"],
        cwd=tmp_path, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    data = (tmp_path / "report").read_bytes()
    assert SECRET.encode() in data  # the real report carries the credentials
    return data


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


def _every_stored_text(url: str) -> list[str]:
    engine = sa.create_engine(url)
    texts: list[str] = []
    try:
        with engine.connect() as conn:
            for table in _tables(conn):
                texts.extend(str(v) for row in conn.execute(sa.select(table)) for v in row)
    finally:
        engine.dispose()
    return texts


def _tables(conn: sa.Connection) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(conn)
    return list(metadata.tables.values())


READ_ROUTES = (
    "/",
    "/api/v1/runs",
    "/api/v1/clusters",
    "/api/v1/known-issues",
    "/api/v1/outbox",
    "/api/v1/objective?suite=staging-e2e",
    "/metrics",
)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "xml"])
def test_no_surface_and_no_row_holds_a_credential(
    client: httpx.Client, settings: Settings, tmp_path: Path, fmt: str
) -> None:
    data = _report(tmp_path, fmt)
    answer = client.post(
        "/api/v1/runs",
        params={"suite": "staging-e2e", "ci_url": CI_URL, "branch": "main"},
        content=data,
        headers=auth(),
    )
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["run_id"]
    assert SECRET not in answer.text
    pages = [client.get(route) for route in (*READ_ROUTES, f"/api/v1/runs/{run_id}")]
    for page in pages:
        assert page.status_code == 200, (page.url, page.text)
        assert SECRET not in page.text, page.url
    detail = pages[-1].json()
    assert detail["ci_url"] == "https://***@ci.example/runs/7"
    nodeids = {f["nodeid"] for f in detail["failures"]}
    assert "test_secret.py::test_connect[password=***]" in nodeids
    assert len([n for n in nodeids if "test_connect" in n]) == 3  # still three tests
    stored = _every_stored_text(settings.database_url)
    assert [t for t in stored if SECRET in t] == []
    # The ordinary failure keeps the fingerprint it always had: masking touched nothing else.
    redis = next(f for f in detail["failures"] if f["nodeid"].endswith("test_redis"))
    assert "redis.staging" in redis["message"]


# --- TRIAGE_READ_TOKEN ----------------------------------------------------------------------


@pytest.fixture
def guarded(sqlite_url: str) -> Settings:
    return make_settings(sqlite_url, read_token=SecretStr(READ_TOKEN))


def _basic(password: str, user: str = "anyone") -> dict[str, str]:
    value = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


@pytest.mark.parametrize("route", [*READ_ROUTES, "/api/v1/runs/1", "/docs", "/openapi.json"])
def test_reads_need_the_read_token_when_it_is_set(guarded: Settings, route: str) -> None:
    with serving(create_app(guarded)) as client:
        anonymous = client.get(route)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"] == "unauthorized"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert client.get(route, headers=auth("wrong")).status_code == 401
        assert client.get(route, headers=_basic("wrong")).status_code == 401
        assert client.get(route, headers=auth(READ_TOKEN)).status_code in (200, 404)
        assert client.get(route, headers=_basic(READ_TOKEN)).status_code in (200, 404)


def test_a_browser_is_offered_basic_and_health_stays_open(guarded: Settings) -> None:
    with serving(create_app(guarded)) as client:
        page = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
        assert page.status_code == 401
        assert page.headers["www-authenticate"] == 'Basic realm="triage-bot"'
        shown = client.get("/", headers={"Accept": "text/html", **_basic(READ_TOKEN)})
        assert shown.status_code == 200
        assert "<html" in shown.text.lower()
        for probe in ("/healthz", "/readyz"):
            assert client.get(probe).status_code == 200
        # Writes keep their own credentials: the upload token, not the read token.
        upload = client.post("/api/v1/runs", params={"suite": "s"}, content=b"{}", headers=auth())
        assert upload.status_code != 401
        assert client.post("/api/v1/runs", params={"suite": "s"}, content=b"{}",
                           headers=auth(READ_TOKEN)).status_code == 401  # fmt: skip


def test_reads_stay_open_without_a_read_token(client: httpx.Client) -> None:
    assert client.get("/api/v1/runs").status_code == 200
    assert client.get("/").status_code == 200
