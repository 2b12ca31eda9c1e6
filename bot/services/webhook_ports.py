"""What the webhook service needs from the edges: delivery storage and the use cases it drives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.core.artifacts import Limits
from bot.core.intents import PostComment
from bot.core.webhook import Command
from bot.ports import GitHubGateway

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """The settings the webhook service reads."""

    workflow_names: tuple[str, ...]
    bot_login: str | None = None
    environment: str = "staging"
    artifact_max_bytes: int = 200 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    max_attempts: int = 5


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """A report found in an artifact, with the metadata the delivery carried."""

    data: bytes
    suite: str
    environment: str
    branch: str | None
    commit: str | None
    ci_url: str | None
    started_at: datetime | None
    source: str = "webhook"


class ClaimedDelivery(Protocol):
    """A pending delivery taken for one more attempt."""

    @property
    def guid(self) -> str: ...

    @property
    def event(self) -> str: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def attempts(self) -> int: ...


class DeliveryStore(Protocol):
    """Deliveries; each call is its own committed transaction."""

    def record(
        self,
        *,
        guid: str,
        event: str,
        action: str,
        payload: bytes | None,
        status: str,
        now: datetime,
    ) -> bool:
        """Store a delivery; False when the GUID was seen before."""
        ...

    def claim(
        self, *, guid: str, now: datetime, stale_before: datetime | None = None
    ) -> ClaimedDelivery | None:
        """Take a pending delivery (or one stuck processing since before `stale_before`)."""
        ...

    def release(self, *, guid: str, outcome: str, now: datetime) -> None:
        """Put a delivery back to pending for a later attempt."""
        ...

    def finish(self, *, guid: str, status: str, outcome: str, now: datetime) -> None: ...

    def pending(
        self, *, limit: int, before: datetime | None = None, stuck_before: datetime | None = None
    ) -> list[str]:
        """List pending deliveries (touched before `before`) and those stuck processing."""
        ...


class WebhookActions(Protocol):
    """The use cases a delivery can drive, each in its own transaction."""

    def github(self, installation_id: int | None = None) -> GitHubGateway:
        """Return the gateway acting as the delivery's App installation (None: the default)."""
        ...

    def ingest(self, request: IngestRequest, *, now: datetime) -> str:
        """Ingest a report idempotently; return a one-line summary naming the run id."""
        ...

    def set_issue_state(self, *, issue: int, state: str, reason: str | None, now: datetime) -> bool:
        """Store a GitHub issue's state; False when it is no known issue."""
        ...

    def execute(self, command: Command, *, issue: int, user: str, now: datetime) -> str:
        """Run a `/triage` command on `issue`; return the reply text (Markdown)."""
        ...

    def reply(self, intent: PostComment, *, now: datetime) -> None:
        """Plan a reply through the outbox (a known key is not planned twice)."""
        ...
