"""Knobs of the outbox sender and what a drain reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Settings


@dataclass(frozen=True, slots=True)
class SenderConfig:
    """Pacing and retry knobs, from settings."""

    min_interval_s: float = 1.0
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 3600.0
    rate_limit_default_s: float = 60.0
    lease_s: float = 120.0
    doubt_window_s: float = 600.0
    dead_retry_s: tuple[float, ...] = (3600.0, 21600.0, 86400.0)

    @classmethod
    def from_settings(cls, settings: Settings) -> SenderConfig:
        """Take the outbox settings."""
        return cls(
            min_interval_s=settings.outbox_min_interval_s,
            max_attempts=settings.outbox_max_attempts,
            backoff_base_s=settings.outbox_backoff_base_s,
            lease_s=settings.outbox_lease_s,
            doubt_window_s=settings.outbox_doubt_window_s,
            dead_retry_s=tuple(settings.outbox_dead_retry_s),
        )


@dataclass
class DrainResult:
    """What one drain did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    in_doubt: int = 0
    revived: int = 0
    errors: list[str] = field(default_factory=list)
