"""The app's Prometheus registry: process metrics, request and use-case latency histograms.

One registry per app, not prometheus_client's global one, so every app (a test makes many)
counts only its own requests. The series read from the database are added by bot.web.metrics.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CollectorRegistry,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.ports.telemetry import Latencies

# Seconds of work that may call GitHub or parse a large report.
SLOW_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NO_ROUTE = "none"  # a 404, or a read the read guard refused before routing
INGEST_OUTCOMES = ("created", "duplicate", "rejected", "error")
WEBHOOK_OUTCOMES = ("done", "ignored", "duplicate", "failed", "pending")
OUTBOX_OUTCOMES = ("sent", "retried", "dead", "in_doubt")


class _Outcomes:
    """A histogram with an `outcome` label, as the services' Latency port."""

    def __init__(self, histogram: Histogram, outcomes: tuple[str, ...]) -> None:
        self.histogram = histogram
        for outcome in outcomes:  # served at 0 from the start, so rate() sees the first one
            histogram.labels(outcome=outcome)

    def observe(self, outcome: str, seconds: float) -> None:
        self.histogram.labels(outcome=outcome).observe(seconds)


class Telemetry:
    """The registry of one app and the histograms its middleware and services feed."""

    def __init__(self) -> None:
        # A `_created` gauge per histogram child: more series, and Prometheus reads none of them.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.requests = Histogram(
            "triage_http_request_duration_seconds",
            "HTTP requests by method, route template and status class (2xx, 4xx...), "
            "until the response is sent; its _count is the request count.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latencies = Latencies(
            ingest=self._histogram(
                "triage_ingest_duration_seconds",
                "Uploaded reports ingested (parse, classify, store, plan comments, commit), "
                "by outcome.",
                INGEST_OUTCOMES,
            ),
            webhook_delivery=self._histogram(
                "triage_webhook_delivery_duration_seconds",
                "GitHub webhook deliveries, from receipt (or a retry's claim) to their "
                "outcome, background processing included.",
                WEBHOOK_OUTCOMES,
            ),
            outbox_send=self._histogram(
                "triage_outbox_send_duration_seconds",
                "Outbox rows sent to GitHub, from claim to outcome.",
                OUTBOX_OUTCOMES,
            ),
        )

    def _histogram(self, name: str, help_text: str, outcomes: tuple[str, ...]) -> _Outcomes:
        histogram = Histogram(
            name, help_text, ["outcome"], buckets=SLOW_BUCKETS, registry=self.registry
        )
        return _Outcomes(histogram, outcomes)


def route_of(scope: Scope) -> str:
    """The template of the route that handled the request: never the raw path (cardinality)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else NO_ROUTE


class RequestMetrics:
    """Time each HTTP request until its last body byte is sent (background tasks excluded)."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering
        done = False

        def record() -> None:
            nonlocal done
            if done:
                return
            done = True
            method = scope["method"] if scope["method"] in METHODS else "other"
            labels = (method, route_of(scope), f"{status // 100}xx")
            self.histogram.labels(*labels).observe(time.perf_counter() - started)

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                record()

        try:
            await self.app(scope, receive, timed_send)
        finally:
            record()
