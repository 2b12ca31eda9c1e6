"""Webhook handlers registered per (event, action), bedevere-style.

A handler may do I/O (GitHub calls, artifact downloads) and returns a Step: the outcome text,
or the writes to make. The caller applies the writes in the unit of work that also marks the
delivery done, so they commit together. A handler registered `inline` does no I/O: it runs in
the request's own transaction. Which deliveries the service wants is derived from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.webhook import Event
from bot.ports.webhooks import DeliveryUnitOfWork
from bot.services.webhook_context import WebhookConfig, WebhookPorts

Apply = Callable[[DeliveryUnitOfWork], str]
Step = str | Apply  # an outcome now, or the writes to make in the delivery's transaction
Accepts = Callable[[Any, WebhookConfig], bool]


@dataclass(frozen=True, slots=True)
class Handler:
    """One registered handler: what it takes, and whether it runs in the request."""

    event: str
    run: Callable[[Any, WebhookPorts, datetime], Step]
    accepts: Accepts
    inline: bool


class Registry:
    """Handlers per (event, action), bedevere-style; `wants` is derived from it."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}

    def on(
        self, event: str, *actions: str, accepts: Accepts | None = None, inline: bool = False
    ) -> Callable[[Callable[[Any, WebhookPorts, datetime], Step]], Any]:
        """Register the decorated function for `event` with any of `actions`."""

        def register(run: Callable[[Any, WebhookPorts, datetime], Step]) -> Any:
            handler = Handler(event, run, accepts or (lambda _e, _c: True), inline)
            for action in actions:
                self._handlers[(event, action)] = handler
            return run

        return register

    def find(self, event: str, parsed: Event | None, config: WebhookConfig) -> Handler | None:
        """Return the handler that wants this parsed delivery (cheap: no I/O), if any."""
        if parsed is None:
            return None
        handler = self._handlers.get((event, parsed.action))
        if handler is None or not handler.accepts(parsed, config):
            return None
        return handler

    def events(self) -> set[str]:
        """The events some handler takes."""
        return {event for event, _ in self._handlers}


registry = Registry()
