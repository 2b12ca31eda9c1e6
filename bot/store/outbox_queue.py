"""The sender's side of the outbox: each operation one short transaction on an engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.ports.outbox import OutboxItem, OutboxQueue, OutboxStats, Requeued
from bot.store.engine import writer
from bot.store.outbox_dead import requeue, revive_dead
from bot.store.outbox_repository import OutboxRepository


class SqlOutboxQueue:
    """The sender's OutboxQueue: each call is one short transaction on the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _repo(self, *, write: bool = True) -> Iterator[OutboxRepository]:
        with Session(writer(self.engine) if write else self.engine) as session:
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

    def retry_later(self, item_id: int, *, error: str, at: datetime, uncount: bool = False) -> None:
        """Put a row back for later."""
        with self._repo() as repo:
            repo.retry_later(item_id, error=error, at=at, uncount=uncount)

    def dead(
        self, item_id: int, *, error: str, now: datetime, revive_after_s: Sequence[float] = ()
    ) -> None:
        """Dead-letter a row, to come back on the schedule."""
        with self._repo() as repo:
            repo.dead(item_id, error=error, now=now, revive_after_s=revive_after_s)

    def begin_write(self, item_id: int, *, now: datetime) -> None:
        """Mark the row in doubt before its write is sent (committed before the request)."""
        with self._repo() as repo:
            repo.begin_write(item_id, now=now)

    def clear_doubt(self, item_id: int) -> None:
        """Take the row out of doubt: GitHub refused the write."""
        with self._repo() as repo:
            repo.clear_doubt(item_id)

    def revive_dead(self, *, now: datetime, max_revivals: int) -> int:
        """Put back the dead rows whose automatic retry is due."""
        with self._repo() as repo:
            return revive_dead(repo.session, now=now, max_revivals=max_revivals)

    def requeue(self, ids: Sequence[int] | None, *, now: datetime) -> Requeued:
        """Put dead rows back for a send now."""
        with self._repo() as repo:
            return requeue(repo.session, ids, now=now)

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
