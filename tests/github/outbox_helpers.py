"""Helpers for outbox tests: a fake clock, a fresh outbox database, a sender against fake GitHub."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.core.intents import Intent
from bot.ports.github import GitHubGateway
from bot.ports.outbox import OutboxItem
from bot.services.outbox_sender import OutboxSender, SenderConfig
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.outbox_queue import SqlOutboxQueue
from bot.store.outbox_repository import OutboxRepository
from bot.store.tables import OutboxRow


@dataclass
class FakeClock:
    """A clock that only moves when the code under test sleeps (or the test says so)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def outbox_engine(url: str) -> Engine:
    """Return an engine on a fresh database, migrated as the service does."""
    upgrade(url)
    return make_engine(url)


def enqueue(engine: Engine, intents: Sequence[Intent], now: datetime) -> int:
    """Plan intents in their own transaction, as an ingest would."""
    with Session(engine) as session:
        added = OutboxRepository(session).enqueue(intents, now=now)
        session.commit()
    return added


def sender(
    engine: Engine,
    gateway: GitHubGateway,
    clock: FakeClock,
    *,
    max_attempts: int = 5,
    after_write: Callable[[OutboxItem], None] | None = None,
    doubt_window_s: float = 600.0,
    dead_retry_s: tuple[float, ...] = (3600.0, 21600.0, 86400.0),
) -> OutboxSender:
    """Build a sender with the fake clock, one second between writes."""
    config = SenderConfig(
        min_interval_s=1.0,
        max_attempts=max_attempts,
        backoff_base_s=2.0,
        doubt_window_s=doubt_window_s,
        dead_retry_s=dead_retry_s,
    )
    return OutboxSender(
        SqlOutboxQueue(engine),
        gateway,
        config=config,
        clock=clock,
        sleep=clock.sleep,
        after_write=after_write,
    )


def rows(engine: Engine) -> list[OutboxRow]:
    """Return every outbox row, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow).order_by(col(OutboxRow.id))))
