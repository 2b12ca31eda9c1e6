"""Adapters from the web edge to services: units of work, ingest and the webhook's actions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Engine

from bot.config import Settings
from bot.core.artifacts import Limits
from bot.core.intents import PostComment
from bot.core.webhook import Command
from bot.ports import GitHubGateway
from bot.services.ingest import IngestOptions, IngestResult
from bot.services.run_meta import RunMeta
from bot.services.webhook_commands import run_command, store_issue_state
from bot.services.webhook_ports import DeliveryStore, IngestRequest, WebhookActions, WebhookConfig
from bot.services.writeback import ingest_and_plan, plan_lifecycle, policy_config
from bot.store.deliveries import EngineDeliveryStore
from bot.store.uow import SqlUnitOfWork
from bot.web.deps import AppContext, get_context, get_engine

log = logging.getLogger(__name__)


def lifecycle_job(context: AppContext) -> Callable[[], None]:
    """Return the daily pass that suggests closing known issues quiet for stale_issue_days."""

    def run() -> None:
        if context.engine is None:
            return
        try:
            with SqlUnitOfWork(context.engine) as uow:
                planned = plan_lifecycle(
                    uow.writeback, uow.outbox, now=context.clock(),
                    config=policy_config(context.settings),
                )  # fmt: skip
                uow.commit()
        except Exception:  # a failed pass is retried tomorrow; the service keeps serving
            log.exception("issue lifecycle pass failed")
            return
        if planned:
            log.info("issue lifecycle pass planned %d comment(s)", planned)

    return run


def webhook_config(settings: Settings) -> WebhookConfig:
    """Read the webhook service's settings."""
    return WebhookConfig(
        workflow_names=tuple(settings.workflow_names),
        bot_login=settings.github_bot_login,
        artifact_max_bytes=settings.artifact_max_bytes,
        limits=Limits(max_total=settings.max_report_bytes, max_member=settings.max_report_bytes),
    )


def ingest(context: AppContext, data: bytes, meta: RunMeta) -> IngestResult:
    """Ingest one report in one unit of work (the same report again is a no-op)."""
    if context.engine is None:
        raise RuntimeError("the database engine is made at start-up and is missing")
    options = IngestOptions.from_settings(context.settings)
    now = context.clock()
    with SqlUnitOfWork(context.engine) as uow:
        result = ingest_and_plan(
            uow, context.kb, data, meta, now=now, options=options,
            policy=policy_config(context.settings),
        )  # fmt: skip
        uow.commit()
    return result


class SqlWebhookActions:
    """The webhook service's actions on the app's database, knowledge and gateway."""

    def __init__(self, context: AppContext, gateway: GitHubGateway | None = None) -> None:
        self.context = context
        self.gateway = gateway  # a fixed gateway for every delivery (tests)

    def _uow(self) -> SqlUnitOfWork:
        if self.context.engine is None:
            raise RuntimeError("the database engine is made at start-up and is missing")
        return SqlUnitOfWork(self.context.engine)

    def _known(self) -> dict[int, str]:
        return {number: issue.title for number, issue in self.context.kb.issues.items()}

    def github(self, installation_id: int | None = None) -> GitHubGateway:
        if self.gateway is not None:
            return self.gateway
        if installation_id is not None and self.context.gateway_for is not None:
            return self.context.gateway_for(installation_id)
        return self.context.gateway

    def ingest(self, request: IngestRequest, *, now: datetime) -> str:
        meta = RunMeta(
            suite=request.suite,
            environment=request.environment,
            branch=request.branch,
            commit=request.commit,
            ci_url=request.ci_url,
            started_at=request.started_at,
            source=request.source,
        )
        result = ingest(self.context, request.data, meta)
        return f"run {result.run_id} {'created' if result.created else 'already stored'}"

    def set_issue_state(self, *, issue: int, state: str, reason: str | None, now: datetime) -> bool:
        with self._uow() as uow:
            known = store_issue_state(
                uow, self._known(), issue=issue, state=state, reason=reason, updated_at=now
            )
            uow.commit()
        return known

    def execute(self, command: Command, *, issue: int, user: str, now: datetime) -> str:
        with self._uow() as uow:
            text = run_command(
                uow, self._known(), command, issue=issue, user=user, now=now,
                kb=self.context.kb, policy=IngestOptions.from_settings(self.context.settings).flaky,
            )  # fmt: skip
            uow.commit()
        return text

    def reply(self, intent: PostComment, *, now: datetime) -> None:
        with self._uow() as uow:
            uow.outbox.enqueue([intent], now=now)
            uow.commit()


def get_delivery_store(engine: Annotated[Engine, Depends(get_engine)]) -> DeliveryStore:
    """Return the deliveries table as the webhook service's DeliveryStore."""
    return EngineDeliveryStore(engine)


def get_webhook_actions(context: Annotated[AppContext, Depends(get_context)]) -> WebhookActions:
    """Return the webhook service's actions (override to swap the gateway in tests)."""
    return SqlWebhookActions(context)
