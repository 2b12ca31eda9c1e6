"""GET /api/v1/judgements: every change of a stored failure's judgement, and why it moved."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from bot.ports.store import JudgementChange
from bot.web.deps import Context
from bot.web.errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["read"])


class JudgementOut(BaseModel):
    failure_id: int = Field(examples=[9120])
    run_id: int = Field(examples=[42])
    suite: str = Field(examples=["staging-e2e"])
    nodeid: str = Field(examples=["tests/test_auth.py::test_login"])
    before_issue: int | None = Field(examples=[None])
    before_rule: str | None = Field(examples=[None])
    before_classification: str = Field(examples=["new"])
    before_category: str = Field(examples=["product"])
    after_issue: int | None = Field(examples=[1087])
    after_rule: str | None = Field(examples=["1087-auth-service-misconfiguration#auth-e2e-status"])
    after_classification: str = Field(examples=["known"])
    after_category: str = Field(examples=["infrastructure"])
    reason: str = Field(
        description="knowledge, link, unlink, wrong or flaky", examples=["knowledge"]
    )
    detail: str = Field(examples=["knowledge base 3f2a9c0d1e2b"])
    at: datetime = Field(examples=["2026-11-20T08:00:00Z"])

    @classmethod
    def of(cls, c: JudgementChange) -> JudgementOut:
        return cls.model_validate(c, from_attributes=True)


class JudgementPage(BaseModel):
    items: list[JudgementOut]
    total: int = Field(examples=[17])
    page: int = Field(examples=[1])
    per_page: int = Field(examples=[50])


@router.get("/judgements", response_model=JudgementPage,
            summary="Changes of stored failures' judgements, newest first",
            responses=error_responses(422))  # fmt: skip
def list_judgements(
    context: Context,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000, description="items per page")] = 50,
    run_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="one run's only")] = None,
) -> JudgementPage:
    """Page through recorded judgement changes (what moved, from what to what, why, when)."""
    size = min(per_page, context.settings.page_size_max)
    with context.uow(write=False) as uow:
        items, total = uow.judgements.changes(run_id=run_id, offset=(page - 1) * size, limit=size)
    return JudgementPage(
        items=[JudgementOut.of(c) for c in items], total=total, page=page, per_page=size
    )
