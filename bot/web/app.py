"""The one composition point: create_app(settings) builds the FastAPI app and its context."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from fastapi import FastAPI

from bot.config import Settings, get_settings
from bot.core.knowledge import load_knowledge
from bot.github.factory import GatewayFactory
from bot.services.outbox import OutboxSender, SenderConfig, run_sender_forever
from bot.services.webhooks import process_pending
from bot.store.deliveries import EngineDeliveryStore
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.outbox_queue import SqlOutboxQueue
from bot.web import dashboard, metrics, objective
from bot.web.deps import AppContext
from bot.web.errors import install_error_handlers
from bot.web.routers import api, health, judgements, outbox, runs, webhook
from bot.web.wiring import SqlWebhookActions, webhook_config

log = logging.getLogger(__name__)

# A delivery processing for longer than this lost its worker (downloads take seconds).
STUCK_AFTER = timedelta(minutes=15)

DESCRIPTION = (
    "Links staging pytest failures to known GitHub issues. Upload reports to "
    "`POST /api/v1/runs`, point a GitHub webhook at `POST /api/v1/github/webhook`, and read "
    "runs, failures, known issues and clusters from the `GET /api/v1/...` routes."
)


def _resume_pending(context: AppContext, waiting_since: datetime, stuck_since: datetime) -> None:
    assert context.engine is not None
    try:
        done = process_pending(
            store=EngineDeliveryStore(context.engine),
            actions=SqlWebhookActions(context),
            config=webhook_config(context.settings),
            clock=context.clock,
            waiting_since=waiting_since,
            stuck_since=stuck_since,
        )
    except Exception:
        log.exception("processing waiting webhook deliveries failed")
        return
    if done:
        log.info("finished %d waiting webhook deliveries", done)


def _retry_deliveries(context: AppContext, stop: threading.Event) -> None:
    # At start: whatever a crash or restart left. Then, now and again: failed attempts, and
    # deliveries stuck processing for so long that their worker must be gone.
    started = context.clock()
    _resume_pending(context, started, started)
    while not stop.wait(context.retry_interval_s):
        now = context.clock()
        _resume_pending(context, now - timedelta(seconds=context.retry_after_s), now - STUCK_AFTER)


class _Loop:
    """A background loop in a thread of its own, stopped and joined before the engine closes.

    Threads, not asyncio tasks: cancelling a task that awaits to_thread() leaves its thread
    running against an engine that is being disposed.
    """

    def __init__(
        self,
        name: str,
        body: Callable[[threading.Event], None],
        stop: threading.Event | None = None,
    ) -> None:
        self._stop = stop or threading.Event()
        self._thread = threading.Thread(target=body, args=(self._stop,), name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _start_loops(context: AppContext) -> list[_Loop]:
    assert context.engine is not None
    loops = [_Loop("webhook-retries", lambda stop: _retry_deliveries(context, stop))]
    if not context.settings.outbox_sender_enabled:
        log.info("outbox sender disabled: run `triage-bot outbox drain` to send GitHub writes")
        return loops
    stop = threading.Event()
    sender = OutboxSender(
        SqlOutboxQueue(context.engine),
        context.gateway,
        config=SenderConfig.from_settings(context.settings),
        sleep=stop.wait,  # so a rate-limit pause ends at shutdown too
    )
    loops.append(_Loop("outbox-sender", lambda s: run_sender_forever(s, sender), stop))
    return loops


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: AppContext = app.state.context
    settings = context.settings
    await asyncio.to_thread(upgrade, settings.database_url)
    context.engine = make_engine(
        settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    await asyncio.to_thread(judgements.rejudge_at_start, context)  # knowledge changed: re-judge
    loops = _start_loops(context)
    log.info("triage-bot ready (%s)", "GitHub dry-run" if context.dry_run else "GitHub live")
    try:
        yield
    finally:
        for loop in loops:
            await asyncio.to_thread(loop.stop)
        context.engine.dispose()


def build_context(settings: Settings) -> AppContext:
    """Load the knowledge base and make the gateways; a bad knowledge dir fails here.

    No network: a GitHub App without an installation id finds it on its first call.
    """
    kb = load_knowledge(settings.knowledge_dir)
    gateways = GatewayFactory(settings)
    if gateways.dry_run:
        log.warning(
            "no GitHub credentials or repository configured: running in dry-run, "
            "GitHub writes are recorded, not sent"
        )
    return AppContext(
        settings=settings,
        kb=kb,
        gateway=gateways.gateway,
        dry_run=gateways.dry_run,
        gateway_for=gateways.for_installation,
    )


def create_app(settings: Settings) -> FastAPI:
    """Build the app for these settings (database and migrations at start-up)."""
    app = FastAPI(
        title="triage-bot",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.context = build_context(settings)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(runs.router)
    app.include_router(api.router)
    app.include_router(judgements.router)
    app.include_router(webhook.router)
    app.include_router(outbox.router)
    # objective.router carries the lifespan that loads the criteria and starts the scheduler.
    app.include_router(objective.router)
    app.include_router(dashboard.router)
    app.include_router(metrics.router)
    return app


def create_app_from_env() -> FastAPI:
    """Build the app from TRIAGE_* settings (the factory `triage-bot serve` hands uvicorn)."""
    return create_app(get_settings())
