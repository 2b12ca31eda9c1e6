"""Web fixtures: real reports from a real pytest run, settings, the app over HTTP, signing."""

from __future__ import annotations

import hashlib
import hmac
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import create_engine, func, select

from bot.config import Settings
from bot.store.tables import WebhookDelivery
from bot.web.app import create_app
from tests.github_server import TOKEN, GitHubState, running_github

API_TOKEN = "upload-token-7f3a91c2"
WEBHOOK_SECRET = "hook-secret-5b21e8d4"
PAYLOADS = Path(__file__).parent / "payloads"

SUITE = """
import pytest

def test_passes():
    assert True

def test_redis_down():
    exc = type("ConnectionError", (Exception,), {"__module__": "redis.exceptions"})
    raise exc("Error 111 connecting to redis.staging:6379. Connection refused.")

def test_product_bug():
    assert 1 + 1 == 3, "arithmetic is broken"

def test_needs_fixture(real_services):
    pass
"""


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Run a small suite with real pytest once; return its report in the three formats."""
    work = tmp_path_factory.mktemp("suite")
    (work / "test_shop.py").write_text(SUITE)
    subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            "--json-report", f"--json-report-file={work / 'report.json'}",
            f"--report-log={work / 'report.jsonl'}", f"--junitxml={work / 'junit.xml'}",
            "test_shop.py",
        ],
        cwd=work, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    return {
        "json": (work / "report.json").read_bytes(),
        "jsonl": (work / "report.jsonl").read_bytes(),
        "xml": (work / "junit.xml").read_bytes(),
    }


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app: tokens set, GitHub in dry-run unless overridden."""
    values: dict[str, object] = {
        "database_url": database_url,
        "api_token": SecretStr(API_TOKEN),
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        "github_dry_run": True,
        "github_bot_login": "triage-bot",
        "max_report_bytes": 5 * 1024 * 1024,
        "scheduler_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return make_settings(sqlite_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


def auth(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(body: bytes, event: str, delivery: str, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """Headers GitHub sends with a delivery."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The app under a real uvicorn server on a free 127.0.0.1 port."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@contextmanager
def serving(app: FastAPI) -> Iterator[httpx.Client]:
    """Run the app under real uvicorn (lifespan: migrations at start); yield an httpx client."""
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture
def client(app: FastAPI) -> Iterator[httpx.Client]:
    """An httpx client talking to the app under a real uvicorn server."""
    with serving(app) as http:
        yield http


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll until `predicate()` is truthy (background work finishes after the answer)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


class Db:
    """Read the service's database directly, to assert on what is stored."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def count(self, table: Any, *where: Any) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(table).where(*where)
            return int(conn.execute(query).scalar_one())

    def rows(self, table: Any, *where: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(table).where(*where)))

    def delivery(self, guid: str) -> Any:
        rows = self.rows(WebhookDelivery, WebhookDelivery.guid == guid)  # type: ignore[arg-type]
        return rows[0] if rows else None


@pytest.fixture
def github() -> Iterator[GitHubState]:
    with running_github(GitHubState(repo="acme/widgets")) as state:
        state.roles.update({"mona": "maintain", "reader": "read", "triager": "triage"})
        yield state


@pytest.fixture
def github_settings(database_url: str, github: GitHubState) -> Settings:
    """Settings talking to the fake GitHub with a token, on SQLite and PostgreSQL."""
    return make_settings(
        database_url,
        github_dry_run=False,
        github_token=SecretStr(TOKEN),
        github_api_url=github.base_url,
        github_repository=github.repo,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Db]:
    database = Db(settings.database_url)
    yield database
    database.engine.dispose()
