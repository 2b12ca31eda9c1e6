"""Outbox API: how many GitHub writes wait, were sent or gave up, and requeueing the dead ones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from bot.store.outbox_dead import ID_MAX, REQUEUE_MAX
from bot.store.outbox_queue import SqlOutboxQueue
from bot.web.auth import require_token
from bot.web.deps import Context
from bot.web.errors import ApiError, error_responses

router = APIRouter(prefix="/api/v1")


class DeadRow(BaseModel):
    id: int = Field(examples=[17])
    key: str = Field(examples=["occurrences:1086"])
    kind: str = Field(examples=["post_comment"])
    attempts: int = Field(examples=[8])
    last_error: str | None = Field(examples=["github_rejected: 422 Body is too long"])
    updated_at: datetime = Field(examples=["2026-11-20T08:00:00Z"])
    revivals: int = Field(description="automatic retries so far (1 h, 6 h, 24 h)", examples=[1])


class OutboxOut(BaseModel):
    dry_run: bool = Field(description="writes are recorded, not sent", examples=[False])
    pending: int = Field(examples=[2])
    sent: int = Field(examples=[310])
    dead: int = Field(description="gave up after the last attempt", examples=[1])
    superseded: int = Field(description="replaced by a newer text", examples=[44])
    in_doubt: int = Field(
        description="pending writes whose outcome is unknown until their marker is found",
        examples=[0],
    )
    dead_rows: list[DeadRow]


@router.get(
    "/outbox", response_model=OutboxOut, summary="Outbox depth and dead letters", tags=["read"]
)
def outbox(context: Context) -> OutboxOut:
    """Count outbox rows per state and list the dead ones with their last error."""
    stats = SqlOutboxQueue(_engine(context)).stats()
    return OutboxOut(
        dry_run=context.dry_run,
        pending=stats.pending,
        sent=stats.sent,
        dead=stats.dead,
        superseded=stats.superseded,
        in_doubt=stats.in_doubt,
        dead_rows=[DeadRow.model_validate(row) for row in stats.dead_rows],
    )


RowId = Annotated[int, Field(ge=1, le=ID_MAX)]


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] = Field(
        default_factory=list,
        max_length=REQUEUE_MAX,
        description="dead rows to requeue",
        examples=[[17, 18]],
    )
    dead: bool = Field(default=False, description="requeue every dead row", examples=[False])


class SkippedRow(BaseModel):
    id: int = Field(examples=[18])
    state: str = Field(description="sent, pending, superseded or missing", examples=["sent"])


class RetryOut(BaseModel):
    requeued: list[int] = Field(examples=[[17]])
    skipped: list[SkippedRow]


@router.post(
    "/outbox/retry",
    response_model=RetryOut,
    summary="Requeue dead outbox rows",
    tags=["outbox"],
    dependencies=[Depends(require_token)],
    responses=error_responses(401, 422),
)
def retry(body: RetryIn, context: Context) -> RetryOut:
    """Put dead rows (the given ids, or all with `dead: true`) back for the sender, now."""
    if not body.ids and not body.dead:
        raise ApiError(422, "nothing_to_retry", "give `ids`, or `dead: true` for every dead row")
    done = SqlOutboxQueue(_engine(context)).requeue(body.ids or None, now=context.clock())
    return RetryOut(
        requeued=list(done.requeued),
        skipped=[SkippedRow(id=i, state=s) for i, s in done.skipped],
    )


def _engine(context: Context) -> Engine:
    if context.engine is None:
        raise RuntimeError("the database engine is made at start-up and is missing")
    return context.engine
