"""Knobs of the outbox sender and what a drain reports."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SenderConfig:
    """Pacing and retry knobs (bot.configs builds them from settings)."""

    min_interval_s: float = 1.0
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 3600.0
    rate_limit_default_s: float = 60.0
    lease_s: float = 120.0
    doubt_window_s: float = 600.0
    dead_retry_s: tuple[float, ...] = (3600.0, 21600.0, 86400.0)


@dataclass
class DrainResult:
    """What one drain did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    in_doubt: int = 0
    revived: int = 0
    errors: list[str] = field(default_factory=list)
