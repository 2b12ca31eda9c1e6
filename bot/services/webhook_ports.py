"""What the webhook service needs from the edges: deliveries in the unit of work, GitHub, config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.core.artifacts import Limits
from bot.core.comment_policy import PolicyConfig
from bot.core.knowledge import KnowledgeBase
from bot.ports import GitHubGateway, Latency, TaskCheckRepository, UnitOfWork
from bot.services.ingest import IngestOptions

WRITE_ROLES = frozenset({"admin", "maintain", "write"})
PENDING, PROCESSING, DONE, FAILED, IGNORED = "pending", "processing", "done", "failed", "ignored"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """The settings the webhook service reads."""

    workflow_names: tuple[str, ...]
    bot_login: str | None = None
    environment: str = "staging"
    artifact_max_bytes: int = 200 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    max_attempts: int = 5
    # `/triage link` asks for --confirm past this many stored failures.
    link_confirm_threshold: int = 200
    # The tracking issue, whose task list the task criteria (id -> phrase) are read from.
    tracking_issue: int | None = None
    task_phrases: tuple[tuple[str, str], ...] = ()


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


@dataclass(frozen=True, slots=True)
class WebhookPorts:
    """Everything a delivery's handler may use, built at the composition root."""

    uow: Callable[[], DeliveryUnitOfWork]
    # The gateway acting as the delivery's App installation (None: the process-wide one).
    github: Callable[[int | None], GitHubGateway]
    kb: KnowledgeBase
    config: WebhookConfig
    ingest_options: IngestOptions = field(default_factory=IngestOptions)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    latency: Latency | None = None  # from a delivery's receipt to its outcome
    # Stores a delivery that needs no other write (ignored, failed, claimed for later) without
    # building a unit of work; None: through `uow`.
    recorder: DeliveryRecorder | None = None

    def known(self) -> dict[int, str]:
        """Known issue numbers and their titles."""
        return {number: issue.title for number, issue in self.kb.issues.items()}
