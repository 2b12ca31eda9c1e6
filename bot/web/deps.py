"""Request dependencies: everything a route needs comes from the app's context, overridable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine

from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.ports import GitHubGateway


def utc_now() -> datetime:
    """Return the current time in UTC (the one clock of the web edge)."""
    return datetime.now(UTC)


@dataclass
class AppContext:
    """What create_app builds once: settings, knowledge, engine (at start), gateway."""

    settings: Settings
    kb: KnowledgeBase
    gateway: GitHubGateway
    dry_run: bool
    # The gateway acting as a delivery's GitHub App installation; None: `gateway` for all.
    gateway_for: Callable[[int], GitHubGateway] | None = None
    clock: Callable[[], datetime] = utc_now
    engine: Engine | None = None
    retry_interval_s: float = 60.0  # how often waiting webhook deliveries are looked at
    retry_after_s: float = 30.0  # how long a failed attempt waits before the next
    extras: dict[str, Any] = field(default_factory=dict)


def get_context(request: Request) -> AppContext:
    """Return the app's context."""
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def get_settings(context: Context) -> Settings:
    """Return the app's settings."""
    return context.settings


def get_kb(context: Context) -> KnowledgeBase:
    """Return the knowledge base loaded at start."""
    return context.kb


def get_engine(context: Context) -> Engine:
    """Return the database engine made at start."""
    if context.engine is None:
        raise RuntimeError("the database engine is made at start-up (lifespan) and is missing")
    return context.engine


def get_gateway(context: Context) -> GitHubGateway:
    """Return the GitHub gateway (a dry-run recorder without credentials)."""
    return context.gateway


def get_clock(context: Context) -> Callable[[], datetime]:
    """Return the clock."""
    return context.clock
