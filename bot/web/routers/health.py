"""GET /healthz (the process answers) and /readyz (database reachable, knowledge loaded)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.web.deps import Context

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    database: bool = Field(examples=[True])
    knowledge: bool = Field(examples=[True])
    known_issues: int = Field(examples=[12])
    dry_run: bool = Field(description="GitHub writes are only recorded", examples=[False])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    """Answer while the process runs."""
    return Health(status="ok")


def _database_ok(context: Context) -> bool:
    try:
        with context.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        return False
    return True


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={
        503: {
            "model": Readiness,
            "description": "Not ready: database unreachable or knowledge missing",
            "content": {
                "application/json": {
                    "example": {
                        "status": "not ready",
                        "database": False,
                        "knowledge": True,
                        "known_issues": 12,
                        "dry_run": False,
                    }
                }
            },
        }
    },
)
def readyz(context: Context) -> Readiness | JSONResponse:
    """Answer 200 when the database answers and the knowledge base is loaded, else 503."""
    database = _database_ok(context)
    knowledge = context.kb is not None
    ready = database and knowledge
    body = Readiness(
        status="ready" if ready else "not ready",
        database=database,
        knowledge=knowledge,
        known_issues=len(context.kb.issues),
        dry_run=context.dry_run,
    )
    if ready:
        return body
    return JSONResponse(body.model_dump(), status_code=503)
