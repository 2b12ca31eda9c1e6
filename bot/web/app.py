"""The FastAPI app: routers, error handlers, and the start-up and background loops.

Every part it runs on comes from the composition root, bot.compose.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.compose import Components, build
from bot.config import Settings, get_settings
from bot.services.outbox_sender import run_sender_forever
from bot.services.webhooks import process_pending
from bot.store.engine import DatabaseBusy
from bot.store.migrate import upgrade
from bot.web import dashboard, metrics, objective
from bot.web.errors import install_error_handlers
from bot.web.pages import docs
from bot.web.pages import router as pages
from bot.web.read_guard import ReadGuard
from bot.web.routers import api, health, judgements, outbox, runs, verdict, webhook
from bot.web.telemetry import RequestMetrics

log = logging.getLogger(__name__)

# A delivery processing for longer than this lost its worker (downloads take seconds).
STUCK_AFTER = timedelta(minutes=15)
RETRY_AFTER_S = "2"  # what a 503 for a busy database tells the client to wait

DESCRIPTION = (
    "Links staging pytest failures to known GitHub issues. Upload reports to "
    "`POST /api/v1/runs`, point a GitHub webhook at `POST /api/v1/github/webhook`, and read "
    "runs, failures, known issues and clusters from the `GET /api/v1/...` routes."
)


def _resume_pending(context: Components, waiting_since: datetime, stuck_since: datetime) -> None:
    try:
        done = process_pending(
            ports=context.webhook_ports(),
            clock=context.clock,
            waiting_since=waiting_since,
            stuck_since=stuck_since,
        )
    except Exception:
        log.exception("processing waiting webhook deliveries failed")
        return
    if done:
        log.info("finished %d waiting webhook deliveries", done)


def _retry_deliveries(context: Components, stop: threading.Event) -> None:
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


def _start_loops(context: Components) -> list[_Loop]:
    loops = [_Loop("webhook-retries", lambda stop: _retry_deliveries(context, stop))]
    if not context.settings.outbox_sender_enabled:
        log.info("outbox sender disabled: run `triage-bot outbox drain` to send GitHub writes")
        return loops
    stop = threading.Event()
    sender = context.sender(sleep=stop.wait)  # so a rate-limit pause ends at shutdown too
    loops.append(_Loop("outbox-sender", lambda s: run_sender_forever(s, sender), stop))
    return loops


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: Components = app.state.context
    await asyncio.to_thread(upgrade, context.settings.database_url)
    context.criteria  # noqa: B018  load now: a bad criteria file fails the start
    await asyncio.to_thread(context.rejudge_stored)  # the knowledge base changed: re-judge
    loops = _start_loops(context)
    await asyncio.to_thread(context.start_scheduler)
    log.info("triage-bot ready (%s)", "GitHub dry-run" if context.dry_run else "GitHub live")
    try:
        yield
    finally:
        for loop in loops:
            await asyncio.to_thread(loop.stop)
        await asyncio.to_thread(context.close)


async def _busy(_request: Request, exc: Exception) -> JSONResponse:
    # The embedded database's writer queue stayed full past the bounded wait: try again soon.
    log.warning("answering 503: %s", exc)
    return JSONResponse(
        {"error": "busy", "detail": "the database is busy with other writes; retry shortly"},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_S},
    )


async def _operational(request: Request, exc: Exception) -> JSONResponse:
    # Another process (a CLI command, a second server) held SQLite's lock past busy_timeout.
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
        return await _busy(request, exc)
    raise exc


def create_app(settings: Settings) -> FastAPI:
    """Build the app for these settings (database and migrations at start-up)."""
    app = FastAPI(
        title="triage-bot",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
        docs_url=None,  # bot.web.pages.docs serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    app.state.context = build(settings)
    install_error_handlers(app)
    app.add_exception_handler(DatabaseBusy, _busy)
    app.add_exception_handler(PoolTimeout, _busy)
    app.add_exception_handler(OperationalError, _operational)
    app.add_middleware(ReadGuard)
    app.state.telemetry = metrics.make_telemetry(app.state.context)
    # Outermost, so refused reads and errors are counted too.
    app.add_middleware(RequestMetrics, histogram=app.state.telemetry.requests)
    app.include_router(health.router)
    app.include_router(runs.router)
    app.include_router(api.router)
    app.include_router(judgements.router)
    app.include_router(verdict.router)
    app.include_router(webhook.router)
    app.include_router(outbox.router)
    app.include_router(objective.router)
    app.include_router(dashboard.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    app.include_router(metrics.router)
    return app


def create_app_from_env() -> FastAPI:
    """Build the app from TRIAGE_* settings (the factory `triage-bot serve` hands uvicorn)."""
    return create_app(get_settings())
