"""The sender's side of the outbox: each operation one short transaction on an engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.ports import OutboxItem, OutboxQueue, OutboxStats
from bot.store.engine import IMMEDIATE
from bot.store.outbox import OutboxRepository


class SqlOutboxQueue:
    """The sender's OutboxQueue: each call is one short transaction on the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _repo(self, *, write: bool = True) -> Iterator[OutboxRepository]:
        with Session(self.engine) as session:
            if write and self.engine.dialect.name == "sqlite":
                session.connection(execution_options={IMMEDIATE: True})
            yield OutboxRepository(session)
            session.commit()

    def claim_next(self, *, now: datetime, lease_s: float) -> OutboxItem | None:
        """Claim one due row (see OutboxRepository.claim_next)."""
        with self._repo() as repo:
            return repo.claim_next(now=now, lease_s=lease_s)

    def complete(self, item_id: int, *, result_id: int | None, now: datetime) -> None:
        """Mark a row sent."""
        with self._repo() as repo:
            repo.complete(item_id, result_id=result_id, now=now)

    def retry_later(self, item_id: int, *, error: str, at: datetime) -> None:
        """Put a row back for later."""
        with self._repo() as repo:
            repo.retry_later(item_id, error=error, at=at)

    def dead(self, item_id: int, *, error: str, now: datetime) -> None:
        """Dead-letter a row."""
        with self._repo() as repo:
            repo.dead(item_id, error=error, now=now)

    def next_due_at(self) -> datetime | None:
        """Return when the next pending row becomes due."""
        with self._repo(write=False) as repo:
            return repo.next_due_at()

    def comment_record(self, issue: int, marker: str) -> tuple[int, str] | None:
        """Read a comment record."""
        with self._repo(write=False) as repo:
            return repo.comment_record(issue, marker)

    def save_comment_record(
        self, issue: int, marker: str, *, comment_id: int, body: str, now: datetime
    ) -> None:
        """Write a comment record."""
        with self._repo() as repo:
            repo.save_comment_record(issue, marker, comment_id=comment_id, body=body, now=now)

    def drop_comment_record(self, issue: int, marker: str) -> None:
        """Delete a comment record."""
        with self._repo() as repo:
            repo.drop_comment_record(issue, marker)

    def stats(self, *, dead_limit: int = 50) -> OutboxStats:
        """Count rows per state."""
        with self._repo(write=False) as repo:
            return repo.stats(dead_limit=dead_limit)


_PORT_CHECK: type[OutboxQueue] = SqlOutboxQueue  # mypy checks the class against the port
