"""Webhook deliveries: one row per X-GitHub-Delivery, for dedupe and restart-safe processing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.core.redact import redact
from bot.ports.webhooks import Deliveries, DeliveryRecorder
from bot.store.common import utc
from bot.store.engine import writer
from bot.store.tables import WebhookDelivery

PENDING = "pending"
PROCESSING = "processing"
DONE = "done"
FAILED = "failed"
IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Claimed:
    guid: str
    event: str
    payload: bytes
    attempts: int


# Outcomes repeat ("issue #1029 closed: stored"): short ones are redacted once each, from a
# small bounded cache, since redaction costs an `issues` delivery a tenth of its database work.
_CACHED_OUTCOME_CHARS = 300


@lru_cache(maxsize=1024)
def _redacted(outcome: str) -> str:
    return redact(outcome)


def _stored_outcome(outcome: str) -> str:
    """The outcome as stored: credentials masked, at most 2,000 characters."""
    if len(outcome) <= _CACHED_OUTCOME_CHARS:
        return _redacted(outcome)[:2000]
    return redact(outcome)[:2000]


@cache
def record_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (guid) DO NOTHING RETURNING guid, for the dialect."""
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    # RETURNING, not rowcount: psycopg's rowcount is not reliable for a skipped row.
    return insert.on_conflict_do_nothing(index_elements=["guid"]).returning(table.c.guid)


def _row(
    *, guid: str, event: str, action: str, payload: bytes | None, status: str, now: datetime,
    outcome: str, attempts: int,
) -> dict[str, Any]:  # fmt: skip
    return {
        "guid": guid, "event": event, "action": action, "status": status,
        "attempts": attempts, "outcome": _stored_outcome(outcome),
        "payload": payload if status in (PENDING, PROCESSING) else None,
        "received_at": now, "updated_at": now,
    }  # fmt: skip


class DeliveryRepository:
    """Deliveries in one SQLModel session; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        guid: str,
        event: str,
        action: str,
        payload: bytes | None,
        status: str,
        now: datetime,
        outcome: str = "",
        attempts: int = 0,
    ) -> bool:
        """Store a delivery; return False when this GUID was stored before (nothing written).

        One INSERT ... ON CONFLICT DO NOTHING: a concurrent request with the same GUID waits
        for the first to commit and then writes nothing, on SQLite and PostgreSQL alike.
        """
        values = _row(
            guid=guid, event=event, action=action, payload=payload, status=status, now=now,
            outcome=outcome, attempts=attempts,
        )  # fmt: skip
        # Core on the session's connection with a statement built once: a webhook's hot path.
        connection = self.session.connection()
        statement = record_statement(connection.dialect.name)
        return connection.execute(statement, values).first() is not None

    def get(self, *, guid: str) -> WebhookDelivery | None:
        """Return the delivery with this GUID, if stored."""
        return self.session.get(WebhookDelivery, guid)

    def start_attempt(
        self, *, guid: str, now: datetime, stale_before: datetime | None = None
    ) -> WebhookDelivery | None:
        """Take a pending delivery (or one stuck processing since before `stale_before`)."""
        row = self.session.get(WebhookDelivery, guid, with_for_update=True)
        if row is None or row.payload is None:
            return None
        stuck = (
            row.status == PROCESSING
            and stale_before is not None
            and utc(row.updated_at) < stale_before
        )
        if row.status != PENDING and not stuck:
            return None
        row.status = PROCESSING
        row.attempts += 1
        row.updated_at = now
        self.session.add(row)
        return row

    def claim(
        self, *, guid: str, now: datetime, stale_before: datetime | None = None
    ) -> Claimed | None:
        """Take a delivery for one more attempt; None when it is not waiting."""
        row = self.start_attempt(guid=guid, now=now, stale_before=stale_before)
        if row is None or row.payload is None:
            return None
        return Claimed(row.guid, row.event, row.payload, row.attempts)

    def release(self, *, guid: str, outcome: str, now: datetime) -> None:
        """Put a delivery back to pending after a failed attempt."""
        self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.guid == guid)  # type: ignore[arg-type]
            .values(status=PENDING, outcome=_stored_outcome(outcome), updated_at=now)
        )

    def finish(self, *, guid: str, status: str, outcome: str, now: datetime) -> None:
        """Mark a delivery done, failed or ignored, and drop its payload."""
        self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.guid == guid)  # type: ignore[arg-type]
            # Outcomes name artifacts and files, which may carry a credential.
            .values(status=status, outcome=_stored_outcome(outcome), payload=None, updated_at=now)
        )

    def pending(
        self,
        *,
        limit: int = 100,
        before: datetime | None = None,
        stuck_before: datetime | None = None,
    ) -> list[str]:
        """Return GUIDs pending (last touched before `before`) or stuck processing, oldest first."""
        waiting = WebhookDelivery.status == PENDING
        if before is not None:
            waiting = waiting & (WebhookDelivery.updated_at < before)
        if stuck_before is not None:
            stuck = (WebhookDelivery.status == PROCESSING) & (
                WebhookDelivery.updated_at < stuck_before
            )
            waiting = waiting | stuck
        query = (
            select(WebhookDelivery.guid)  # type: ignore[call-overload]
            .where(waiting)
            .order_by(WebhookDelivery.received_at)
            .limit(limit)
        )
        return list(self.session.execute(query).scalars())

    def count(self, *, status: str | None = None) -> int:
        """Count deliveries, optionally of one status."""
        query = select(WebhookDelivery.guid)  # type: ignore[call-overload]
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        return len(self.session.execute(query).all())


class EngineDeliveryStore:
    """Deliveries outside a unit of work: each call in its own committed transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _writing(self) -> Iterator[DeliveryRepository]:
        # Take the write lock at BEGIN: a read-then-write transaction could otherwise fail
        # with "database is locked" when another writer got there first.
        with Session(writer(self.engine)) as session:
            yield DeliveryRepository(session)
            session.commit()

    def record(
        self,
        *,
        guid: str,
        event: str,
        action: str,
        payload: bytes | None,
        status: str,
        now: datetime,
        outcome: str = "",
        attempts: int = 0,
    ) -> bool:
        """Store a delivery in a transaction of its own; False when the GUID was stored before.

        No ORM session: one INSERT ... ON CONFLICT DO NOTHING on a connection, committed, for
        the deliveries that need no other write (ignored, failed, claimed for later).
        """
        values = _row(
            guid=guid, event=event, action=action, payload=payload, status=status, now=now,
            outcome=outcome, attempts=attempts,
        )  # fmt: skip
        with writer(self.engine).begin() as connection:
            statement = record_statement(connection.dialect.name)
            return connection.execute(statement, values).first() is not None

    def claim(
        self, *, guid: str, now: datetime, stale_before: datetime | None = None
    ) -> Claimed | None:
        """Take a delivery for one more attempt; None when it is not waiting."""
        with self._writing() as repo:
            return repo.claim(guid=guid, now=now, stale_before=stale_before)

    def release(self, *, guid: str, outcome: str, now: datetime) -> None:
        """Put a delivery back to pending for a later attempt."""
        with self._writing() as repo:
            repo.release(guid=guid, outcome=outcome, now=now)

    def finish(self, *, guid: str, status: str, outcome: str, now: datetime) -> None:
        """Mark a delivery finished."""
        with self._writing() as repo:
            repo.finish(guid=guid, status=status, outcome=outcome, now=now)

    def pending(
        self, *, limit: int, before: datetime | None = None, stuck_before: datetime | None = None
    ) -> list[str]:
        """Return the GUIDs still waiting, oldest first."""
        with Session(self.engine) as session:
            return DeliveryRepository(session).pending(
                limit=limit, before=before, stuck_before=stuck_before
            )


# mypy checks both classes against the ports the webhook service speaks.
_PORT_CHECK: type[Deliveries] = DeliveryRepository
_RECORDER_CHECK: type[DeliveryRecorder] = EngineDeliveryStore
