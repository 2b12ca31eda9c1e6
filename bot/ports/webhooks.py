"""Webhook ports: the deliveries table, written in the unit of work's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.ports.reports import TaskCheckRepository
from bot.ports.store import UnitOfWork

PENDING, PROCESSING, DONE, FAILED, IGNORED = "pending", "processing", "done", "failed", "ignored"


class ClaimedDelivery(Protocol):
    """A delivery taken for one more attempt."""

    @property
    def guid(self) -> str: ...

    @property
    def event(self) -> str: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def attempts(self) -> int: ...


class Deliveries(Protocol):
    """Deliveries, written in the unit of work's transaction (the caller commits)."""

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
        """Store a delivery; False when the GUID was stored before (nothing written)."""
        ...

    def claim(
        self, *, guid: str, now: datetime, stale_before: datetime | None = None
    ) -> ClaimedDelivery | None:
        """Take a pending delivery (or one stuck processing since before `stale_before`)."""
        ...

    def release(self, *, guid: str, outcome: str, now: datetime) -> None:
        """Put a delivery back to pending for a later attempt."""
        ...

    def finish(self, *, guid: str, status: str, outcome: str, now: datetime) -> None:
        """Mark a delivery done, failed or ignored, and drop its payload."""
        ...

    def pending(
        self, *, limit: int, before: datetime | None = None, stuck_before: datetime | None = None
    ) -> list[str]:
        """List pending deliveries (touched before `before`) and those stuck processing."""
        ...


class DeliveryRecorder(Protocol):
    """Stores one delivery in a short transaction of its own, outside any unit of work."""

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
        """Store and commit a delivery; False when the GUID was stored before."""
        ...


class DeliveryUnitOfWork(UnitOfWork, Protocol):
    """The store's unit of work, with the deliveries table in the same transaction."""

    @property
    def deliveries(self) -> Deliveries: ...

    @property
    def tasks(self) -> TaskCheckRepository: ...
