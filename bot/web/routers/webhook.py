"""POST /api/v1/github/webhook: verify, answer ping, dedupe, parse, dispatch, answer fast."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.core.webhook import WebhookError, load_payload, verify_signature
from bot.services.webhooks import Delivery, process_received, receive
from bot.web.body import read_capped
from bot.web.deps import Context, Ports
from bot.web.errors import ApiError, error_responses

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
    ports: Ports,
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
    # One transaction: store the delivery once, and handle it too when that needs no I/O.
    delivery = Delivery(guid=guid, event=event, action=_action(body), body=body)
    received = await run_in_threadpool(receive, ports, delivery, now=context.clock())
    if received.status == "duplicate":
        answer = WebhookAnswer(status="duplicate", delivery=guid, event=event)
        return JSONResponse(answer.model_dump(), status_code=200)
    if received.process:
        background.add_task(process_received, ports, delivery, clock=context.clock)
        log.info("delivery %s (%s) accepted", guid, event)
    return WebhookAnswer(status=received.status, delivery=guid, event=event)
