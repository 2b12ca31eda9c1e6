"""The floor of a delivery's database work: its two writes and their commit, measured alone.

An `issues` delivery stores the issue's state and the delivery's row, and commits. Here the same
two statements (the store's own, rendered once) run on the benchmark's database, three ways:
through the database driver alone, through SQLAlchemy Core on the service's engine (with its
SQLite write lock), and through the store's unit of work, as the service runs them. CPU time of
this process, min/median over the repeats.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.measure import Timing, timed
from bot.ports.store import IssueState
from bot.store.deliveries import record_statement
from bot.store.engine import make_engine, writer
from bot.store.known_issues import set_state_statement
from bot.store.uow import SqlUnitOfWork

ISSUE = 1029


@dataclass(frozen=True)
class Floor:
    """One way of making the writes: its label and the timing of `count` transactions."""

    label: str
    count: int
    timing: Timing

    def cpu_ms(self) -> float:
        """Median CPU milliseconds per transaction."""
        return self.timing.per(self.count, 1e3)[1]

    def describe(self) -> str:
        """'CPU x/y ms, wall x/y ms (min/median)' per transaction."""
        return self.timing.describe(self.count)


def _values(now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    delivery = {
        "guid": str(uuid.uuid4()), "event": "issues", "action": "closed", "status": "done",
        "attempts": 1, "outcome": f"issue #{ISSUE} closed: stored", "payload": None,
        "received_at": now, "updated_at": now,
    }  # fmt: skip
    state = {
        "number": ISSUE, "state": "closed", "title": "Known issue", "state_reason": None,
        "updated_at": now,
    }  # fmt: skip
    return delivery, state


def _driver_sql(engine: Any, statement: Any) -> Callable[[dict[str, Any]], Any]:
    """The statement's SQL for the driver, and a function giving its parameters from values."""
    compiled = statement.compile(dialect=engine.dialect)
    # The compiled statement's own converters (SQLite stores datetimes as text).
    processors = compiled._bind_processors
    names = compiled.positiontup

    def params(values: dict[str, Any]) -> Any:
        converted = {k: processors[k](v) if k in processors else v for k, v in values.items()}
        return tuple(converted[n] for n in names) if names else converted

    params.sql = str(compiled)  # type: ignore[attr-defined]
    return params


def commit_floors(kind: str, url: str, *, count: int, repeat: int) -> list[Floor]:
    """Time `count` transactions of the delivery's writes on `url`, each way, `repeat` times."""
    engine = make_engine(url)
    dialect = engine.dialect.name
    record, set_state = record_statement(dialect), set_state_statement(dialect)
    now = datetime.now(UTC)
    raw_record, raw_state = _driver_sql(engine, record), _driver_sql(engine, set_state)
    begin = "BEGIN IMMEDIATE" if dialect == "sqlite" else None

    def driver() -> None:
        connection = engine.raw_connection()
        try:
            for _ in range(count):
                delivery, state = _values(now)
                cursor = connection.cursor()
                if begin:
                    cursor.execute(begin)
                cursor.execute(raw_state.sql, raw_state(state))  # type: ignore[attr-defined]
                cursor.execute(raw_record.sql, raw_record(delivery))  # type: ignore[attr-defined]
                cursor.fetchall()
                connection.commit()
                cursor.close()
        finally:
            connection.close()

    def core() -> None:
        for _ in range(count):
            delivery, state = _values(now)
            with writer(engine).begin() as conn:
                conn.execute(set_state, state)
                conn.execute(record, delivery).first()

    def unit_of_work() -> None:
        for _ in range(count):
            delivery, state = _values(now)
            with SqlUnitOfWork(engine) as uow:
                uow.issues.set(state=IssueState(**state))
                uow.deliveries.record(
                    guid=delivery["guid"], event="issues", action="closed", payload=None,
                    status="done", now=now, outcome=delivery["outcome"], attempts=1,
                )  # fmt: skip
                uow.commit()

    try:
        return [
            Floor(f"{kind}: {label}", count, timed(fn, repeat))
            for label, fn in (
                ("driver alone (the store's SQL)", driver),
                ("SQLAlchemy Core, the service's engine", core),
                ("the store's unit of work", unit_of_work),
            )
        ]
    finally:
        engine.dispose()
