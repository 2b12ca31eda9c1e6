"""POST /api/v1/github/webhook: verify, answer ping, dedupe, parse, dispatch, answer fast."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.core.webhook import SHAPE, WebhookError, load_payload, parse_event, verify_signature
from bot.services.webhook_ports import DeliveryStore, WebhookActions
from bot.services.webhooks import FAILED, IGNORED, PENDING, process_delivery, wants
from bot.web.body import read_capped
from bot.web.deps import Context
from bot.web.errors import ApiError, error_responses
from bot.web.wiring import get_delivery_store, get_webhook_actions, webhook_config

log = logging.getLogger(__name__)
router = APIRouter(tags=["github"])

# GitHub does not deliver payloads over 25 MB.
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024


class WebhookAnswer(BaseModel):
    """What the receiver did with a delivery."""

    status: Literal["pong", "accepted", "ignored", "duplicate"] = Field(examples=["accepted"])
    delivery: str | None = Field(default=None, examples=["72d3162e-cc78-11e3-81ab-4c9367dc0958"])
    event: str = Field(examples=["workflow_run"])


def _check_signature(context: Context, body: bytes, signature: str | None) -> None:
    secret = context.settings.webhook_secret
    if secret is None or not secret.get_secret_value():
        # Unsigned deliveries could forge a maintainer's /triage command: refuse them all.
        raise ApiError(401, "webhook_disabled", "set TRIAGE_WEBHOOK_SECRET to receive webhooks")
    verify_signature(secret.get_secret_value().encode(), body, signature)


def _action(body: bytes) -> str:
    try:
        action = load_payload(body).get("action", "")
    except WebhookError:
        return ""
    return action[:100] if isinstance(action, str) else ""


@router.post(
    "/api/v1/github/webhook",
    status_code=202,
    response_model=WebhookAnswer,
    summary="Receive a GitHub webhook delivery",
    responses={
        200: {
            "model": WebhookAnswer,
            "description": "ping answered, or a delivery already received",
            "content": {
                "application/json": {"example": {"status": "duplicate", "event": "issues"}}
            },
        },
        **error_responses(400, 401, 413, 422),
    },
)
async def receive_webhook(
    request: Request,
    *,
    background: BackgroundTasks,
    context: Context,
    store: Annotated[DeliveryStore, Depends(get_delivery_store)],
    actions: Annotated[WebhookActions, Depends(get_webhook_actions)],
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header()] = None,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> WebhookAnswer | JSONResponse:
    """Verify the signature, answer ping, store the delivery once and process it after answering."""
    body = await read_capped(request, MAX_WEBHOOK_BYTES, "webhook payload")
    _check_signature(context, body, x_hub_signature_256)
    event = (x_github_event or "").strip()
    if not event:
        raise ApiError(400, "missing_event", "X-GitHub-Event header is missing")
    if event == "ping":
        return JSONResponse({"status": "pong", "event": event, "delivery": x_github_delivery})
    guid = (x_github_delivery or "").strip()
    if not guid or len(guid) > 100:
        raise ApiError(400, "missing_delivery", "X-GitHub-Delivery header is missing or too long")
    now = context.clock()
    if not store.record(
        guid=guid, event=event, action=_action(body), payload=body, status=PENDING, now=now
    ):
        answer = WebhookAnswer(status="duplicate", delivery=guid, event=event)
        return JSONResponse(answer.model_dump(), status_code=200)
    config = webhook_config(context.settings)
    try:
        parsed = parse_event(event, body)
    except WebhookError as exc:
        if exc.reason == SHAPE:
            # A handled event in a shape the service does not read (GitHub's pinned issues,
            # a new action): nothing to do, and GitHub should not see a failed delivery.
            store.finish(guid=guid, status=IGNORED, outcome=f"{exc.reason}: {exc.message}", now=now)
            log.info("delivery %s (%s) ignored: %s", guid, event, exc.message)
            return WebhookAnswer(status="ignored", delivery=guid, event=event)
        store.finish(guid=guid, status=FAILED, outcome=f"{exc.reason}: {exc.message}", now=now)
        raise
    if not wants(parsed, config):
        store.finish(guid=guid, status=IGNORED, outcome="not handled", now=now)
        return WebhookAnswer(status="ignored", delivery=guid, event=event)
    background.add_task(
        process_delivery, guid, store=store, actions=actions, config=config, clock=context.clock
    )
    log.info("delivery %s (%s) accepted", guid, event)
    return WebhookAnswer(status="accepted", delivery=guid, event=event)
