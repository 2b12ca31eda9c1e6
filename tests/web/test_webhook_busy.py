"""SQLite under load: writers queue on one lock; past the bounded wait the answer is 503."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.store.engine import IMMEDIATE, make_engine
from bot.store.migrate import upgrade
from tests.web.conftest import auth, make_settings, serving
from tests.web.webhook_support import payload, send

RUNS = "/api/v1/runs"


@contextmanager
def writing(url: str) -> Iterator[None]:
    """Hold the database's write lock, as a long write of this process would."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
            conn.execute(text("SELECT 1"))
            yield
    finally:
        engine.dispose()


def test_a_write_past_the_bounded_wait_is_503_with_retry_after(
    sqlite_url: str, reports: dict[str, bytes]
) -> None:
    from bot.web.app import create_app

    upgrade(sqlite_url)
    app = create_app(make_settings(sqlite_url, sqlite_write_wait_s=0.2))
    with serving(app) as client:
        with writing(sqlite_url):
            upload = client.post(
                RUNS, params={"suite": "s"}, content=reports["json"], headers=auth()
            )
            hook = send(client, "issues", payload("issues_closed"), "d-busy")
        assert (upload.status_code, hook.status_code) == (503, 503)
        for answer in (upload, hook):
            assert answer.headers["Retry-After"] == "2"
            assert answer.json()["error"] == "busy"
        # Once the writer is done, the same requests go through: nothing was half-stored.
        again = client.post(RUNS, params={"suite": "s"}, content=reports["json"], headers=auth())
        assert again.status_code == 201, again.text
        assert send(client, "issues", payload("issues_closed"), "d-busy").status_code == 202


def test_concurrent_writes_queue_instead_of_failing(
    sqlite_url: str, reports: dict[str, bytes]
) -> None:
    from bot.web.app import create_app

    app = create_app(make_settings(sqlite_url, sqlite_busy_timeout_ms=1))
    with serving(app) as client:

        def work(i: int) -> int:
            if i % 2:
                data = payload("issues_closed")
                return send(client, "issues", data, f"d-{i}").status_code
            params = {"suite": f"s{i}"}
            return client.post(
                RUNS, params=params, content=reports["json"], headers=auth()
            ).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(work, range(32)))
    # SQLite's own busy timeout is 1 ms here: only the service's lock keeps them apart.
    assert statuses == [201, 202] * 16


def test_the_lock_is_released_after_a_failed_write(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url, write_wait_s=0.5)
    writer = engine.execution_options(**{IMMEDIATE: True})
    try:
        for _ in range(3):
            with pytest.raises(OperationalError, match="no_such_column"), writer.begin() as conn:
                conn.execute(text("SELECT no_such_column FROM outbox"))
        with writer.begin() as conn:  # the fourth writer still gets in
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
