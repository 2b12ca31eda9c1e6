"""Request dependencies: typed parts of the app's Components (bot.compose), overridable.

The ones that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread
pool, and a dozen thread hops cost a webhook delivery more than its database work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from bot.compose import Components, utc_now
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.ports.github import GitHubGateway
from bot.ports.reports import ReportsUowFactory
from bot.services.webhook_context import WebhookPorts
from bot.store.uow import SqlUnitOfWork

# The app's context is the composition root's Components; the old name stays for routers.
AppContext = Components
__all__ = ["AppContext", "Context", "utc_now"]


async def get_context(request: Request) -> Components:
    """Return the app's components."""
    context: Components = request.app.state.context
    return context


Context = Annotated[Components, Depends(get_context)]


async def context_settings(context: Context) -> Settings:
    """Return the app's settings."""
    return context.settings


async def get_kb(context: Context) -> KnowledgeBase:
    """Return the knowledge base loaded at start."""
    return context.kb


async def get_engine(context: Context) -> Engine:
    """Return the database engine."""
    return context.engine


async def get_gateway(context: Context) -> GitHubGateway:
    """Return the GitHub gateway (a dry-run recorder without credentials)."""
    return context.gateway


async def get_clock(context: Context) -> Callable[[], datetime]:
    """Return the clock."""
    return context.clock


def get_reading(context: Context) -> Iterator[SqlUnitOfWork]:
    """Yield a read-only unit of work for the request."""
    with context.uow(write=False) as uow:
        yield uow


async def get_reports(context: Context) -> ReportsUowFactory:
    """Return the report unit-of-work factory (objective, criteria, dashboard)."""
    return context.reports


async def get_webhook_ports(context: Context) -> WebhookPorts:
    """Return the webhook service's ports (override to swap the gateway in tests)."""
    return context.webhook_ports()


Reading = Annotated[SqlUnitOfWork, Depends(get_reading)]
Reports = Annotated[ReportsUowFactory, Depends(get_reports)]
Ports = Annotated[WebhookPorts, Depends(get_webhook_ports)]
