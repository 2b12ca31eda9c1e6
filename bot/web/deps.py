"""Request dependencies: typed parts of the app's Components (bot.compose), overridable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from bot.compose import Components, utc_now
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.ports import GitHubGateway, ReportsUowFactory
from bot.services.webhook_ports import WebhookPorts
from bot.store.uow import SqlUnitOfWork

# The app's context is the composition root's Components; the old name stays for routers.
AppContext = Components
__all__ = ["AppContext", "Context", "utc_now"]


def get_context(request: Request) -> Components:
    """Return the app's components."""
    context: Components = request.app.state.context
    return context


Context = Annotated[Components, Depends(get_context)]


def get_settings(context: Context) -> Settings:
    """Return the app's settings."""
    return context.settings


def get_kb(context: Context) -> KnowledgeBase:
    """Return the knowledge base loaded at start."""
    return context.kb


def get_engine(context: Context) -> Engine:
    """Return the database engine."""
    return context.engine


def get_gateway(context: Context) -> GitHubGateway:
    """Return the GitHub gateway (a dry-run recorder without credentials)."""
    return context.gateway


def get_clock(context: Context) -> Callable[[], datetime]:
    """Return the clock."""
    return context.clock


def get_reading(context: Context) -> Iterator[SqlUnitOfWork]:
    """Yield a read-only unit of work for the request."""
    with context.uow(write=False) as uow:
        yield uow


def get_reports(context: Context) -> ReportsUowFactory:
    """Return the report unit-of-work factory (objective, criteria, dashboard)."""
    return context.reports


def get_webhook_ports(context: Context) -> WebhookPorts:
    """Return the webhook service's ports (override to swap the gateway in tests)."""
    return context.webhook_ports()


Reading = Annotated[SqlUnitOfWork, Depends(get_reading)]
Reports = Annotated[ReportsUowFactory, Depends(get_reports)]
Ports = Annotated[WebhookPorts, Depends(get_webhook_ports)]
