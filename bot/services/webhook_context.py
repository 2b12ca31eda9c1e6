"""What a webhook handler is given: its config and its ports, built at the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.artifacts import Limits
from bot.core.comment_policy import PolicyConfig
from bot.core.knowledge import KnowledgeBase
from bot.ports.github import GitHubGateway
from bot.ports.telemetry import Latency
from bot.ports.webhooks import DeliveryRecorder, DeliveryUnitOfWork
from bot.services.ingest import IngestOptions

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
    # `/triage link` asks for --confirm past this many stored failures.
    link_confirm_threshold: int = 200
    # The tracking issue, whose task list the task criteria (id -> phrase) are read from.
    tracking_issue: int | None = None
    task_phrases: tuple[tuple[str, str], ...] = ()


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
