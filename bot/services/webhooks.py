"""Receive and process GitHub deliveries: one transaction each, retried when a crash cut one.

The receiver stores a delivery once; a handler that needs no I/O runs in that same
transaction. Other deliveries are processed after the answer: the handler's I/O first, then
its writes, its reply and the delivery's final status in one unit of work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from bot.core.errors import TriageError
from bot.core.webhook import SHAPE, Event, WebhookError, load_payload, parse_event
from bot.ports.github import GitHubError
from bot.ports.webhooks import DONE, FAILED, IGNORED, PENDING, PROCESSING
from bot.services import webhook_handlers
from bot.services.webhook_context import WebhookConfig, WebhookPorts
from bot.services.webhook_registry import Handler, Step, registry

log = logging.getLogger(__name__)
HANDLERS = webhook_handlers  # importing it registers the handlers


def wants(event: str, parsed: Event | None, config: WebhookConfig) -> bool:
    """Tell whether a parsed delivery has work to do (cheap: no I/O)."""
    return registry.find(event, parsed, config) is not None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery as received: its GUID, event, action ("": read from the payload), raw payload."""

    guid: str
    event: str
    action: str
    body: bytes
    # When the service took it (received, or claimed again): its latency runs from here.
    taken: float = field(default_factory=time.perf_counter, compare=False)


Answer = Literal["accepted", "ignored", "duplicate"]


@dataclass(frozen=True, slots=True)
class Received:
    """What the receiver did with a delivery; `process` is set when work remains."""

    status: Answer
    process: bool = False


def _observe(ports: WebhookPorts, delivery: Delivery, outcome: str) -> None:
    if ports.latency is not None:
        ports.latency.observe(outcome, time.perf_counter() - delivery.taken)


def receive(ports: WebhookPorts, delivery: Delivery, *, now: datetime) -> Received:
    """Store a delivery once and, when its handler needs no I/O, handle it in the same commit.

    The payload is decoded once, here. Raises WebhookError (a payload that is not the event it
    claims) once it is stored failed.
    """
    try:
        received = _receive(ports, delivery, now)
    except WebhookError:
        _observe(ports, delivery, FAILED)
        raise
    if not received.process:  # else its latency is recorded when its processing ends
        answer = {"accepted": DONE, "ignored": IGNORED}.get(received.status, received.status)
        _observe(ports, delivery, answer)
    return received


def _receive(ports: WebhookPorts, delivery: Delivery, now: datetime) -> Received:
    try:
        parsed = parse_event(delivery.event, delivery.body)
    except WebhookError as exc:
        delivery = _with_action(delivery, None)
        outcome = f"{exc.reason}: {exc.message}"
        if exc.reason == SHAPE:
            # A handled event in a shape the service does not read (GitHub's pinned issues, a
            # new action): nothing to do, and GitHub should not see a failed delivery.
            stored = _record(ports, delivery, IGNORED, now, outcome=outcome)
            log.info("delivery %s (%s) ignored: %s", delivery.guid, delivery.event, exc.message)
            return Received("ignored" if stored else "duplicate")
        if not _record(ports, delivery, FAILED, now, outcome=outcome):
            return Received("duplicate")
        raise
    delivery = _with_action(delivery, parsed)
    handler = registry.find(delivery.event, parsed, ports.config)
    if handler is None:
        stored = _record(ports, delivery, IGNORED, now, outcome="not handled")
        return Received("ignored" if stored else "duplicate")
    if handler.inline:
        try:
            return _receive_inline(ports, handler, parsed, delivery, now)
        except Exception:
            log.warning("delivery %s: handling in the request failed; retried", delivery.guid)
    # The request itself claims it (attempt 1), so the retry loop leaves it alone until stuck.
    stored = _record(ports, delivery, PROCESSING, now, attempts=1)
    return Received("accepted", process=True) if stored else Received("duplicate")


def _with_action(delivery: Delivery, parsed: Event | None) -> Delivery:
    """The delivery with its action, from the parsed event or else the payload's "action"."""
    if delivery.action:
        return delivery
    if parsed is not None:
        action: object = parsed.action
    else:
        # An event the service does not read, or a payload it could not parse: the action is
        # still recorded when the payload has one.
        try:
            action = load_payload(delivery.body).get("action", "")
        except WebhookError:
            action = ""
    if not isinstance(action, str) or not action:
        return delivery
    return replace(delivery, action=action[:100])


def _receive_inline(
    ports: WebhookPorts, handler: Handler, parsed: Event | None, delivery: Delivery, now: datetime
) -> Received:
    step = handler.run(parsed, ports, now)
    with ports.uow() as uow:
        outcome = step if isinstance(step, str) else step(uow)
        if not uow.deliveries.record(
            guid=delivery.guid, event=delivery.event, action=delivery.action, payload=None,
            status=DONE, now=now, outcome=outcome, attempts=1,
        ):  # fmt: skip
            return Received("duplicate")  # leaving without commit drops the handler's writes
        uow.commit()
    log.info("delivery %s done: %s", delivery.guid, outcome)
    return Received("accepted")


def _record(
    ports: WebhookPorts, delivery: Delivery, status: str, now: datetime, *, outcome: str = "",
    attempts: int = 0,
) -> bool:  # fmt: skip
    """Store a delivery that needs no other write, in one commit; False for a duplicate."""
    payload = delivery.body if status in (PENDING, PROCESSING) else None
    if ports.recorder is not None:
        return ports.recorder.record(
            guid=delivery.guid, event=delivery.event, action=delivery.action, payload=payload,
            status=status, now=now, outcome=outcome, attempts=attempts,
        )  # fmt: skip
    with ports.uow() as uow:
        stored = uow.deliveries.record(
            guid=delivery.guid, event=delivery.event, action=delivery.action, payload=payload,
            status=status, now=now, outcome=outcome, attempts=attempts,
        )  # fmt: skip
        uow.commit()
    return stored


def _retry_later(exc: Exception) -> bool:
    if isinstance(exc, GitHubError):
        return exc.transient  # 5xx, timeouts, rate limits
    return not isinstance(exc, TriageError)  # bad input never gets better


def _apply(ports: WebhookPorts, guid: str, step: Step, now: datetime) -> str:
    # The handler's writes, its reply and the delivery's final status commit together.
    with ports.uow() as uow:
        outcome = step if isinstance(step, str) else step(uow)
        uow.deliveries.finish(guid=guid, status=DONE, outcome=outcome, now=now)
        uow.commit()
    return outcome


def _attempt(
    ports: WebhookPorts, delivery: Delivery, attempts: int, clock: Callable[[], datetime]
) -> str | None:
    """Run one claimed attempt; bad input fails it, passing trouble leaves it to retry."""
    guid = delivery.guid
    try:
        parsed = parse_event(delivery.event, delivery.body)
        handler = registry.find(delivery.event, parsed, ports.config)
        if handler is None:
            outcome, status = "nothing to do", IGNORED
        else:
            outcome = _apply(ports, guid, handler.run(parsed, ports, clock()), clock())
            log.info("delivery %s %s: %s", guid, DONE, outcome)
            _observe(ports, delivery, DONE)
            return outcome
    except Exception as exc:
        log.warning("delivery %s: attempt %d failed", guid, attempts, exc_info=exc)
        if _retry_later(exc) and attempts < ports.config.max_attempts:
            with ports.uow() as uow:
                uow.deliveries.release(guid=guid, outcome=f"attempt {attempts} failed", now=clock())
                uow.commit()
            _observe(ports, delivery, PENDING)
            return None
        detail = f"{exc.reason}: {exc.message}" if isinstance(exc, TriageError) else "error"
        outcome, status = f"{detail} (attempt {attempts})", FAILED
    with ports.uow() as uow:
        uow.deliveries.finish(guid=guid, status=status, outcome=outcome, now=clock())
        uow.commit()
    log.info("delivery %s %s: %s", guid, status, outcome)
    _observe(ports, delivery, status)
    return outcome


def process_received(
    ports: WebhookPorts, delivery: Delivery, *, clock: Callable[[], datetime]
) -> str | None:
    """Process a delivery the receiver stored as claimed (attempt 1), after answering."""
    return _attempt(ports, delivery, 1, clock)


def process_delivery(
    guid: str,
    *,
    ports: WebhookPorts,
    clock: Callable[[], datetime],
    stale_before: datetime | None = None,
) -> str | None:
    """Claim one waiting delivery and process it; None when not waiting or left to retry."""
    with ports.uow() as uow:
        claimed = uow.deliveries.claim(guid=guid, now=clock(), stale_before=stale_before)
        uow.commit()
    if claimed is None:
        return None
    delivery = Delivery(guid, claimed.event, "", claimed.payload)
    return _attempt(ports, delivery, claimed.attempts, clock)


def process_pending(
    *,
    ports: WebhookPorts,
    clock: Callable[[], datetime],
    waiting_since: datetime | None = None,
    stuck_since: datetime | None = None,
    limit: int = 100,
) -> int:
    """Process deliveries left waiting (a failed attempt, a crash, a restart); count them.

    Pending rows last touched before `waiting_since` and rows stuck processing since before
    `stuck_since` are taken; both default to now (at start-up nothing else is running).
    """
    now = clock()
    waiting_since = waiting_since or now
    stuck_since = stuck_since or now
    with ports.uow() as uow:
        guids = uow.deliveries.pending(limit=limit, before=waiting_since, stuck_before=stuck_since)
    done = 0
    for guid in guids:
        outcome = process_delivery(guid, ports=ports, clock=clock, stale_before=stuck_since)
        done += outcome is not None
    return done


__all__ = ["DONE", "FAILED", "IGNORED", "PENDING", "receive", "wants"]
