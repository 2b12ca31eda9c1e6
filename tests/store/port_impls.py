"""The implementations a port's tests run on: its fake, and the store on SQLite and PostgreSQL.

A test module takes these through two fixtures of its own:

    @pytest.fixture(params=IMPLS)
    def impl(request): return request.param

    @pytest.fixture
    def database_url(impl, request): return database_url_of(impl, request)

and asks for the shared `engine` fixture only for a store implementation (store_engine).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import Engine

from bot.core.intents import Intent
from bot.ports.outbox import OutboxQueue
from bot.store.outbox_queue import SqlOutboxQueue
from tests.fakes import FakeOutboxQueue
from tests.github.outbox_helpers import enqueue as sql_enqueue

IMPLS = ["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def database_url_of(impl: str, request: pytest.FixtureRequest) -> str:
    """The database of a store implementation ("sqlite" or "postgres", maybe with a suffix)."""
    url: str = request.getfixturevalue(f"{impl.partition('+')[0]}_url")
    return url


def store_engine(request: pytest.FixtureRequest) -> Engine:
    """The shared engine fixture, on the database the test's `impl` names."""
    engine: Engine = request.getfixturevalue("engine")
    return engine


@dataclass
class Outbox:
    """The sender's queue and the writers' side that fills it."""

    queue: OutboxQueue
    enqueue: Callable[[Sequence[Intent], datetime], int]


def outbox_of(impl: str, request: pytest.FixtureRequest) -> Outbox:
    """The fake outbox, or the store's outbox on the test's database."""
    if impl == "fake":
        fake = FakeOutboxQueue()
        return Outbox(fake, lambda intents, now: fake.enqueue(intents, now=now))
    engine = store_engine(request)
    return Outbox(SqlOutboxQueue(engine), lambda intents, now: sql_enqueue(engine, intents, now))
