"""Builders shared by store and service tests: a migrated database, a small knowledge base, runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.core.knowledge import KnowledgeBase, parse_knowledge
from bot.core.model import Failure, Outcome, Phase, ReportFormat, TestResult, TestRun
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.tables import load_all_tables
from bot.store.uow import SqlUnitOfWork

# Import every table module now: pytester restores sys.modules after each test, and a module
# imported later for the first time would be imported again, redefining its tables.
load_all_tables()

T0 = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)  # a Monday

CATEGORIES = """
infrastructure_phases = ["collect", "setup", "teardown", "???"]

[[patterns]]
id = "connection-error"
exception = ["ConnectionError", "ConnectionRefusedError"]
"""
REDIS = """
issue = 1029
title = "Redis connection failures"
category = "infrastructure"

[[rules]]
id = "redis-client-error"
exception = ["redis.exceptions.ConnectionError"]
"""
CART = """
issue = 700
title = "Cart total is off by one"
category = "product"

[[rules]]
id = "cart-total"
nodeid = "tests/test_cart.py::*"
message = 'total \\d+ != \\d+'
"""


def knowledge(**extra: str) -> KnowledgeBase:
    """Build the tests' knowledge base: #1029 (Redis, infrastructure), #700 (cart, product)."""
    files = {
        "categories.toml": CATEGORIES,
        "issues/1029-redis.toml": REDIS,
        "issues/700-cart.toml": CART,
    }
    files.update(extra)
    return parse_knowledge(files)


def migrated_engine(url: str) -> Engine:
    upgrade(url)
    return make_engine(url)


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = migrated_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def failure(
    nodeid: str,
    *,
    exception: str | None = "AssertionError",
    message: str = "assert 1 == 2",
    phase: Phase = Phase.CALL,
) -> Failure:
    """Build a failure as the readers would."""
    outcome = Outcome.FAILED if phase is Phase.CALL else Outcome.ERROR
    chain = (exception,) if exception else ()
    text = f"def test():\n>       boom()\nE       {exception}: {message}\n"
    return Failure(nodeid, phase, outcome, exception, chain, message, text)


REDIS_DOWN = {
    "exception": "redis.exceptions.ConnectionError",
    "message": "Error 111 connecting to redis:6379. Connection refused.",
}
PG_DOWN = {
    "exception": "ConnectionRefusedError",
    "message": "[Errno 111] Connection refused",
}


def make_run(
    passed: Iterable[str] = (),
    failures: Iterable[Failure] = (),
    *,
    flaky: Iterable[str] = (),
    created: datetime | None = None,
) -> TestRun:
    """Build a parsed run: passing tests, failures (their tests fail) and flaky passes."""
    failures = tuple(failures)
    tests = [TestResult(n, Outcome.PASSED) for n in passed]
    tests += [TestResult(n, Outcome.FLAKY, reruns=1) for n in flaky]
    seen: set[str] = set()
    for f in failures:
        if f.phase is not Phase.COLLECT and f.nodeid not in seen:
            seen.add(f.nodeid)
            tests.append(TestResult(f.nodeid, f.outcome))
    return TestRun(ReportFormat.JSON_REPORT, tuple(tests), failures, created=created)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


UowFactory = Callable[[], SqlUnitOfWork]
