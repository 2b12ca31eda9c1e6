"""Telemetry: durations the use cases report (Prometheus histograms in the web app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Latency(Protocol):
    """Records how long one piece of a use case's work took, and how it ended."""

    def observe(self, outcome: str, seconds: float) -> None:
        """Record one duration under its outcome ("sent", "duplicate", ...)."""
        ...


@dataclass(frozen=True, slots=True)
class Latencies:
    """Where each timed use case reports; None: not recorded (the CLI has no /metrics)."""

    ingest: Latency | None = None
    webhook_delivery: Latency | None = None
    outbox_send: Latency | None = None
