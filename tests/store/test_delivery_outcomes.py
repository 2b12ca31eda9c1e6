"""Delivery outcomes are stored with credentials masked, short (cached) and long alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.store.deliveries import WebhookDelivery
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.uow import SqlUnitOfWork

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
TOKEN = "ghp_" + "a1" * 18


def test_outcomes_are_masked_and_capped(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    short = f"artifact report.zip: token={TOKEN}"
    long = f"{'x' * 400} {TOKEN} " + "y" * 3000
    outcomes = {"a": short, "b": short, "c": long, "d": "issue #1029 closed: stored"}
    with SqlUnitOfWork(engine) as uow:
        for guid, outcome in outcomes.items():
            assert uow.deliveries.record(
                guid=guid, event="issues", action="closed", payload=None, status="done",
                now=T0, outcome=outcome, attempts=1,
            )  # fmt: skip
        uow.deliveries.finish(guid="d", status="failed", outcome=short, now=T0)
        uow.commit()
    with engine.connect() as conn:
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        stored = dict(conn.execute(select(table.c.guid, table.c.outcome)).all())
    engine.dispose()
    assert stored["a"] == stored["b"] == stored["d"] == "artifact report.zip: token=***"
    assert TOKEN not in stored["c"]
    assert stored["c"].startswith("x" * 400 + " ***")
    assert len(stored["c"]) == 2000
