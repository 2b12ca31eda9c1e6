"""POST /api/v1/outbox/retry and the outbox series of /metrics, over HTTP on a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlmodel import Session

from bot.core.intents import PostComment
from bot.store.outbox_repository import OutboxRepository
from bot.web.app import create_app
from tests.web.conftest import auth, make_settings, serving


def _dead_rows(url: str, count: int) -> list[int]:
    """Plan `count` comments and dead-letter them, as a sender would after its last attempt."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            repo = OutboxRepository(session)
            now = datetime.now(UTC)
            repo.enqueue([PostComment(n, "text", f"k{n}") for n in range(1, count + 1)], now=now)
            session.commit()
            ids = []
            for _ in range(count):
                item = repo.claim_next(now=now, lease_s=60)
                assert item is not None
                repo.dead(item.id, error="github_unavailable: GitHub answered 500", now=now)
                ids.append(item.id)
            session.commit()
    finally:
        engine.dispose()
    return ids


def _metric(http: httpx.Client, name: str) -> float:
    families = text_string_to_metric_families(http.get("/metrics").text)
    return next(s.value for f in families for s in f.samples if s.name == name and not s.labels)


@pytest.fixture
def http(database_url: str) -> httpx.Client:
    # The sender is off, so requeued rows stay pending where the test can see them.
    app = create_app(make_settings(database_url, outbox_sender_enabled=False))
    with serving(app) as client:
        yield client  # type: ignore[misc]


def test_retry_needs_the_api_token(http: httpx.Client) -> None:
    anonymous = http.post("/api/v1/outbox/retry", json={"dead": True})
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = http.post("/api/v1/outbox/retry", json={"dead": True}, headers=auth("nope"))
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"dead": False},
        {"dead": 1},
        {"ids": None, "dead": True},
        {"ids": [0]},
        {"ids": [2**70]},
        {"ids": list(range(1, 1002))},
        {"ids": "all"},
        {"everything": True},
    ],
)
def test_retry_refuses_unclear_requests_with_422(http: httpx.Client, body: object) -> None:
    answer = http.post("/api/v1/outbox/retry", json=body, headers=auth())
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]  # says what is wrong


def test_retry_requeues_dead_rows_and_metrics_count_them(
    http: httpx.Client, database_url: str
) -> None:
    ids = _dead_rows(database_url, 3)
    assert _metric(http, "triage_outbox_dead") == 3
    assert _metric(http, "triage_outbox_in_doubt") == 0
    assert http.get("/api/v1/outbox").json()["dead"] == 3

    one = http.post("/api/v1/outbox/retry", json={"ids": [ids[0], 424242]}, headers=auth())
    assert one.status_code == 200, one.text
    assert one.json() == {"requeued": [ids[0]], "skipped": [{"id": 424242, "state": "missing"}]}
    again = http.post("/api/v1/outbox/retry", json={"ids": [ids[0]]}, headers=auth())
    assert again.json() == {"requeued": [], "skipped": [{"id": ids[0], "state": "pending"}]}

    rest = http.post("/api/v1/outbox/retry", json={"dead": True}, headers=auth())
    assert rest.json() == {"requeued": ids[1:], "skipped": []}
    outbox = http.get("/api/v1/outbox").json()
    assert (outbox["dead"], outbox["pending"], outbox["in_doubt"]) == (0, 3, 0)
    assert _metric(http, "triage_outbox_dead") == 0
    assert _metric(http, "triage_outbox_depth") == 3
