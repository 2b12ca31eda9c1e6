"""POST /api/v1/github/webhook: verify, answer ping, dedupe, parse, dispatch, answer fast."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.core.webhook import verify_signature
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


# The headers are read from the request (not declared as parameters, which FastAPI would
# validate one by one on every delivery); the OpenAPI document still lists them.
_HEADERS = {
    "X-GitHub-Event": "the event name, e.g. issues",
    "X-GitHub-Delivery": "the delivery's GUID (deduplication)",
    "X-Hub-Signature-256": "sha256=HMAC of the body with the webhook secret",
}
_OPENAPI = {
    "parameters": [
        {"name": name, "in": "header", "required": False, "description": doc,
         "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": name}}
        for name, doc in _HEADERS.items()
    ]
}  # fmt: skip


def _check_signature(context: Context, body: bytes, signature: str | None) -> None:
    secret = context.settings.webhook_secret
    if secret is None or not secret.get_secret_value():
        # Unsigned deliveries could forge a maintainer's /triage command: refuse them all.
        raise ApiError(401, "webhook_disabled", "set TRIAGE_WEBHOOK_SECRET to receive webhooks")
    verify_signature(secret.get_secret_value().encode(), body, signature)


def _answer(status: str, delivery: str | None, event: str, code: int) -> JSONResponse:
    # Built as JSON directly: the answer's few strings need no model validation.
    return JSONResponse({"status": status, "delivery": delivery, "event": event}, code)


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
    openapi_extra=_OPENAPI,
)
async def receive_webhook(
    request: Request, *, background: BackgroundTasks, context: Context, ports: Ports
) -> JSONResponse:
    """Verify the signature, answer ping, store the delivery once and process it after answering."""
    headers = request.headers
    body = await read_capped(request, MAX_WEBHOOK_BYTES, "webhook payload")
    _check_signature(context, body, headers.get("x-hub-signature-256"))
    event = (headers.get("x-github-event") or "").strip()
    if not event:
        raise ApiError(400, "missing_event", "X-GitHub-Event header is missing")
    delivery_header = headers.get("x-github-delivery")
    if event == "ping":
        return _answer("pong", delivery_header, event, 200)
    guid = (delivery_header or "").strip()
    if not guid or len(guid) > 100:
        raise ApiError(400, "missing_delivery", "X-GitHub-Delivery header is missing or too long")
    # One transaction: store the delivery once, and handle it too when that needs no I/O. The
    # service decodes the payload (once) and reads the action from it.
    delivery = Delivery(guid=guid, event=event, action="", body=body)
    received = await run_in_threadpool(receive, ports, delivery, now=context.clock())
    if received.status == "duplicate":
        return _answer("duplicate", guid, event, 200)
    if received.process:
        background.add_task(process_received, ports, delivery, clock=context.clock)
        log.info("delivery %s (%s) accepted", guid, event)
    return _answer(received.status, guid, event, 202)
