"""Outbox API: the GitHub writes (planned, sent or given up) with their text, and requeueing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from bot.core.redact import redact_optional
from bot.store.outbox_dead import ID_MAX, REQUEUE_MAX
from bot.store.outbox_queue import PAGE_MAX, OutboxEntry, SqlOutboxQueue, list_entries
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

    @field_validator("last_error")
    @classmethod
    def _masked(cls, value: str | None) -> str | None:
        # Errors are masked when stored; a row stored before that was not.
        return redact_optional(value)


class OutboxRowOut(BaseModel):
    id: int = Field(examples=[17])
    key: str = Field(examples=["occurrences:1086"])
    kind: str = Field(
        description="PostComment, UpsertComment, SetIssueState or CreateIssue",
        examples=["UpsertComment"],
    )
    state: str = Field(description="pending, sent, dead or superseded", examples=["pending"])
    repository: str | None = Field(
        description="where it is written (TRIAGE_GITHUB_REPOSITORY)", examples=["acme/shop"]
    )
    issue: int | None = Field(
        description="the issue written to; null: a new issue", examples=[1086]
    )
    title: str | None = Field(description="a new issue's title", examples=[None])
    summary: str = Field(
        description="one line: the first line of the text, or the state change",
        examples=["Seen again in staging-e2e: 3 failures in run 42"],
    )
    body: str | None = Field(
        description="the text that is (or would be) posted, credentials masked; null for a "
        "state change",
        examples=["Seen again in staging-e2e: 3 failures in run 42\n\n<!-- triage-bot:k -->"],
    )
    attempts: int = Field(examples=[1])
    in_doubt: bool = Field(description="sent, outcome not known yet", examples=[False])
    revivals: int = Field(examples=[0])
    last_error: str | None = Field(examples=["github_unavailable: 502 Bad Gateway"])
    result_id: int | None = Field(
        description="the comment or issue id GitHub gave back", examples=[2094822]
    )
    created_at: datetime = Field(examples=["2026-11-20T08:00:00Z"])
    updated_at: datetime = Field(examples=["2026-11-20T08:00:03Z"])
    next_attempt_at: datetime = Field(examples=["2026-11-20T08:00:00Z"])

    @classmethod
    def of(cls, entry: OutboxEntry, repository: str | None) -> OutboxRowOut:
        return cls(repository=repository, **asdict(entry))


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
    rows: list[OutboxRowOut] = Field(description="this page of rows, newest first")
    next_cursor: int | None = Field(
        description="pass as `cursor` for the next (older) page; null on the last page",
        examples=[1041],
    )
    limit: int = Field(examples=[50])


State = Literal["pending", "sent", "dead", "superseded"]


@router.get(
    "/outbox",
    response_model=OutboxOut,
    summary="Outbox depth, dead letters and the rows with their text",
    tags=["read"],
    responses=error_responses(422),
)
def outbox(
    context: Context,
    state: Annotated[State | None, Query(description="only rows in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="rows per page")] = 50,
    cursor: Annotated[
        int | None, Query(ge=1, le=ID_MAX, description="`next_cursor` of the previous page")
    ] = None,
) -> OutboxOut:
    """Count rows per state, list the dead ones, and page through the rows, newest first."""
    stats = SqlOutboxQueue(context.engine).stats()
    entries, more = list_entries(context.engine, state=state, before=cursor, limit=limit)
    repository = context.settings.github_repository
    return OutboxOut(
        dry_run=context.dry_run,
        pending=stats.pending,
        sent=stats.sent,
        dead=stats.dead,
        superseded=stats.superseded,
        in_doubt=stats.in_doubt,
        dead_rows=[DeadRow.model_validate(row) for row in stats.dead_rows],
        rows=[OutboxRowOut.of(entry, repository) for entry in entries],
        next_cursor=entries[-1].id if more and entries else None,
        limit=limit,
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
