"""Shared fixtures: real SQLite and PostgreSQL databases, one fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpcore  # noqa: F401
import httpx  # noqa: F401
import psycopg
import pytest
import redis  # noqa: F401

if TYPE_CHECKING:
    from sqlalchemy import Engine

# pytester's in-process runs drop the modules first imported inside them. httpx maps
# httpcore's exceptions through classes it caches on first use, so a second inner run that
# re-imports httpcore would raise unmapped httpcore errors. Importing the client libraries
# here keeps one copy of each for the whole session.

# .ci/run sets this so PostgreSQL tests fail, not skip, when the server is down.
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _pg_admin_url() -> str:
    return os.environ.get("TRIAGE_TEST_POSTGRES_URL", DEFAULT_PG)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'triage.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    admin = _pg_admin_url()
    name = f"triage_{uuid.uuid4().hex[:12]}"
    plain = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs on real SQLite and on real PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A fresh database migrated as the service migrates it, on SQLite and on PostgreSQL."""
    from bot.store.engine import make_engine
    from bot.store.migrate import upgrade

    upgrade(database_url)
    made = make_engine(database_url)
    yield made
    made.dispose()
