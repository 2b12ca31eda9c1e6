"""An outbox row's last error is masked when stored: a credential in an error never shows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.core.intents import PostComment
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.outbox_queue import SqlOutboxQueue
from bot.store.tables import OutboxRow
from tests.github.outbox_helpers import enqueue

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LEAK = "connect to postgres://svc:Hunter2Secret@db.internal:5432/app failed; password=Hunter2Secret"


def test_retry_and_dead_errors_are_masked(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        enqueue(engine, [PostComment(7, "hello", "k7"), PostComment(8, "hi", "k8")], NOW)
        queue = SqlOutboxQueue(engine)
        first = queue.claim_next(now=NOW, lease_s=60)
        assert first is not None
        queue.retry_later(first.id, error=LEAK, at=NOW)
        second = queue.claim_next(now=NOW, lease_s=60)
        assert second is not None
        queue.dead(second.id, error=LEAK, now=NOW)
        with Session(engine) as session:
            stored = [str(e) for e in session.exec(select(OutboxRow.last_error)).all()]
        assert len(stored) == 2
        assert all("Hunter2Secret" not in e for e in stored), stored
        assert any("db.internal" in e for e in stored)  # the rest of the error stays readable
    finally:
        engine.dispose()
