"""Helpers shared by the repositories: UTC datetimes and the dialect's INSERT ... ON CONFLICT."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def utc(value: datetime) -> datetime:
    """Return an aware UTC datetime; naive values (as SQLite returns them) are taken as UTC."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def upsert(session: Session, table: Table) -> Any:
    """Return an INSERT for the session's dialect that supports on_conflict_do_* clauses."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
