"""Helpers shared by the repositories: UTC datetimes and the dialect's INSERT ... ON CONFLICT."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.core.timeutil import as_utc

utc = as_utc  # naive values (as SQLite returns them) are UTC


def maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def upsert(session: Session, table: Table) -> Any:
    """Return an INSERT for the session's dialect that supports on_conflict_do_* clauses."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
