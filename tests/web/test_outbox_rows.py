"""`GET /api/v1/outbox` lists rows with their text, paged, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from bot.core.intents import CreateIssue, PostComment, SetIssueState, UpsertComment
from bot.store.engine import make_engine
from bot.store.outbox_queue import SqlOutboxQueue
from bot.store.outbox_repository import OutboxRepository
from bot.store.tables import OutboxRow
from bot.web.app import create_app
from tests.web.conftest import auth, make_settings, serving, wait_for

REPO = "acme/shop"
SECRET = "ghp_" + "A1b2" * 9  # a GitHub token shape, masked on the way out
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def http(database_url: str) -> Iterator[httpx.Client]:
    """The app (sender off, so rows stay where the test puts them) under uvicorn."""
    settings = make_settings(database_url, github_repository=REPO, outbox_sender_enabled=False)
    with serving(create_app(settings)) as client:
        yield client


def _plan(database_url: str) -> None:
    """Seven rows: 1 sent, 2 dead (an old unmasked error), 3 state change, 4 new issue, ..."""
    intents = [
        PostComment(1086, "Seen again in staging-e2e\n\nrun 42", "k1"),
        PostComment(1087, "Broken again\nsecond line", "k2"),
        SetIssueState(1088, "closed", "completed", "k3"),
        CreateIssue("New failure: KeyError", f"body with token={SECRET}", ("triage",), "k4"),
        UpsertComment(623, "weekly", "Week 47: 3 regressions", "k5"),
        PostComment(1089, "fifth", "k6"),
        PostComment(1090, "sixth", "k7"),
    ]
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            OutboxRepository(session).enqueue(intents, now=T0)
            session.commit()
        queue = SqlOutboxQueue(engine)
        sent = queue.claim_next(now=T0, lease_s=60)
        assert sent is not None
        queue.complete(sent.id, result_id=555, now=T0 + timedelta(seconds=1))
        dead = queue.claim_next(now=T0, lease_s=60)
        assert dead is not None
        queue.dead(dead.id, error="github_rejected: 422", now=T0 + timedelta(seconds=2))
        with Session(engine) as session:  # a row stored before errors were masked
            session.execute(
                update(OutboxRow)
                .where(col(OutboxRow.id) == dead.id)
                .values(last_error=f"401 Bad credentials for Bearer {SECRET}")
            )
            session.commit()
    finally:
        engine.dispose()


def test_rows_carry_the_words_and_the_counts_stay(http: httpx.Client, database_url: str) -> None:
    _plan(database_url)
    answer = http.get("/api/v1/outbox")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert (data["pending"], data["sent"], data["dead"], data["superseded"]) == (5, 1, 1, 0)
    assert [row["id"] for row in data["dead_rows"]] == [2]
    assert SECRET not in answer.text
    rows = {row["id"]: row for row in data["rows"]}
    assert list(rows) == [7, 6, 5, 4, 3, 2, 1]  # newest first
    assert data["next_cursor"] is None
    first = rows[1]
    assert first["state"] == "sent"
    assert first["result_id"] == 555
    assert (first["repository"], first["issue"], first["kind"]) == (REPO, 1086, "PostComment")
    assert first["body"] == "Seen again in staging-e2e\n\nrun 42"
    assert first["summary"] == "Seen again in staging-e2e"
    assert first["created_at"].startswith("2026-11-20T08:00:00")
    assert first["updated_at"].startswith("2026-11-20T08:00:01")
    assert rows[2]["last_error"] == "401 Bad credentials for Bearer ***"
    assert rows[3]["body"] is None
    assert rows[3]["summary"] == "close #1088 as completed"
    assert (rows[4]["issue"], rows[4]["title"]) == (None, "New failure: KeyError")
    assert rows[4]["body"] == "body with token=***"
    assert rows[5]["kind"] == "UpsertComment"
    assert rows[5]["summary"] == "Week 47: 3 regressions"


def test_pages_follow_the_cursor_and_filter_by_state(http: httpx.Client, database_url: str) -> None:
    _plan(database_url)
    seen: list[int] = []
    cursor: int | None = None
    for _ in range(5):
        params: dict[str, int] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/v1/outbox", params=params).json()
        assert page["limit"] == 3
        assert len(page["rows"]) <= 3
        seen += [row["id"] for row in page["rows"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    pending = http.get("/api/v1/outbox", params={"state": "pending", "limit": 4}).json()
    assert [row["id"] for row in pending["rows"]] == [7, 6, 5, 4]
    assert pending["next_cursor"] == 4
    rest = http.get("/api/v1/outbox", params={"state": "pending", "cursor": 4}).json()
    assert [row["id"] for row in rest["rows"]] == [3]
    dead = http.get("/api/v1/outbox", params={"state": "dead"}).json()
    assert [(row["id"], row["state"]) for row in dead["rows"]] == [(2, "dead")]
    assert dead["pending"] == 5  # the counts are the whole outbox's, whatever the filter


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "ten"},
        {"state": "sending"},
        {"cursor": 0},
        {"cursor": 2**40},
    ],
)
def test_bad_paging_is_a_422(http: httpx.Client, params: dict[str, object]) -> None:
    answer = http.get("/api/v1/outbox", params=params)  # type: ignore[arg-type]
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]


def test_a_dry_run_shows_and_logs_the_words_it_would_post(
    database_url: str, reports: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(database_url, github_repository=REPO, outbox_min_interval_s=0.0)
    with caplog.at_level(logging.INFO, "bot.github.dryrun"), serving(create_app(settings)) as http:
        assert http.post("/api/v1/runs?suite=shop", content=reports["json"], headers=auth())
        wait_for(lambda: http.get("/api/v1/outbox").json()["pending"] == 0)
        data = http.get("/api/v1/outbox").json()
    assert data["dry_run"] is True
    assert data["sent"] >= 1
    comments = [row for row in data["rows"] if row["kind"] in ("PostComment", "UpsertComment")]
    assert comments
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.github.dryrun"]
    for row in comments:
        assert row["body"].startswith(row["summary"].rstrip("…"))
        place = f"{REPO}#{row['issue']}"
        assert any(place in line and repr(row["summary"]) in line for line in logged), logged
    assert all("dry run: would " in line for line in logged)
