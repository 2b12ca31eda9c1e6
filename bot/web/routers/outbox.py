"""Outbox API: how many GitHub writes wait, were sent or gave up, and requeueing the dead ones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from bot.store.outbox_dead import ID_MAX, REQUEUE_MAX
from bot.store.outbox_queue import SqlOutboxQueue
from bot.web.auth import require_token
from bot.web.deps import Context
from bot.web.errors import error_responses

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
    stats = SqlOutboxQueue(context.engine).stats()
    return OutboxOut(
        dry_run=context.dry_run,
        pending=stats.pending,
        sent=stats.sent,
        dead=stats.dead,
        superseded=stats.superseded,
        in_doubt=stats.in_doubt,
        dead_rows=[DeadRow.model_validate(row) for row in stats.dead_rows],
    )


def _not_text(value: object) -> object:
    # JSON Schema counts 17.0 as an integer, "17" and true not: so does this.
    if isinstance(value, str | bool):
        raise ValueError("must be an integer")
    return value


def _exactly_true(value: object) -> object:
    if value is not True:
        raise ValueError("must be true (or left out)")
    return value


RowId = Annotated[int, Field(ge=1, le=ID_MAX), BeforeValidator(_not_text)]
RowIds = Annotated[list[RowId], Field(min_length=1, max_length=REQUEUE_MAX)]


class RetryIn(BaseModel):
    """Either `ids` or `dead: true` (the schema says so, and so does the 422)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["ids"]}, {"required": ["dead"]}]},
    )

    ids: RowIds | SkipJsonSchema[None] = Field(
        default=None,
        description="dead rows to requeue",
        examples=[[17, 18]],
    )
    dead: Annotated[Literal[True], BeforeValidator(_exactly_true)] | SkipJsonSchema[None] = Field(
        default=None, description="requeue every dead row", examples=[True]
    )

    @model_validator(mode="after")
    def _one_asked(self) -> RetryIn:
        for name in ("ids", "dead"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        if self.ids is None and self.dead is None:
            raise ValueError("give `ids`, or `dead: true` for every dead row")
        return self


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
    responses=error_responses(400, 401, 422),
)
def retry(body: RetryIn, context: Context) -> RetryOut:
    """Put dead rows (the given ids, or all with `dead: true`) back for the sender, now."""
    done = SqlOutboxQueue(context.engine).requeue(body.ids, now=context.clock())
    return RetryOut(
        requeued=list(done.requeued),
        skipped=[SkippedRow(id=i, state=s) for i, s in done.skipped],
    )
