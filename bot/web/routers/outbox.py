"""Outbox API: how many GitHub writes wait, were sent or gave up, and why the dead ones died."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.store.outbox_queue import SqlOutboxQueue
from bot.web.deps import Context

router = APIRouter(prefix="/api/v1", tags=["read"])


class DeadRow(BaseModel):
    id: int = Field(examples=[17])
    key: str = Field(examples=["occurrences:1086"])
    kind: str = Field(examples=["post_comment"])
    attempts: int = Field(examples=[8])
    last_error: str | None = Field(examples=["github_rejected: 422 Body is too long"])
    updated_at: datetime = Field(examples=["2026-11-20T08:00:00Z"])


class OutboxOut(BaseModel):
    dry_run: bool = Field(description="writes are recorded, not sent", examples=[False])
    pending: int = Field(examples=[2])
    sent: int = Field(examples=[310])
    dead: int = Field(description="gave up after the last attempt", examples=[1])
    superseded: int = Field(description="replaced by a newer text", examples=[44])
    dead_rows: list[DeadRow]


@router.get("/outbox", response_model=OutboxOut, summary="Outbox depth and dead letters")
def outbox(context: Context) -> OutboxOut:
    """Count outbox rows per state and list the dead ones with their last error."""
    stats = SqlOutboxQueue(context.engine).stats()
    return OutboxOut(
        dry_run=context.dry_run,
        pending=stats.pending,
        sent=stats.sent,
        dead=stats.dead,
        superseded=stats.superseded,
        dead_rows=[DeadRow.model_validate(row) for row in stats.dead_rows],
    )
