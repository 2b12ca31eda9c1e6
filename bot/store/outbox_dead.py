"""Dead letters come back: automatic revivals on a schedule, and requeues asked for by a person."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.ports.outbox import Requeued
from bot.store.outbox_repository import DEAD, PENDING
from bot.store.tables import OutboxRow

REQUEUE_MAX = 1000  # ids in one manual retry; the API and the CLI refuse more
ID_MAX = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL


def revive_dead(session: Session, *, now: datetime, max_revivals: int) -> int:
    """Put back every dead row whose next automatic retry is due; it gets all its attempts."""
    result = session.execute(
        update(OutboxRow)
        .execution_options(synchronize_session=False)
        .where(col(OutboxRow.state) == DEAD)
        .where(col(OutboxRow.revivals) < max_revivals)
        .where(col(OutboxRow.next_attempt_at) <= now)
        .values(
            state=PENDING,
            attempts=0,
            revivals=col(OutboxRow.revivals) + 1,
            next_attempt_at=now,
            claimed_until=None,
            updated_at=now,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def requeue(session: Session, ids: Sequence[int] | None, *, now: datetime) -> Requeued:
    """Put dead rows back now with every attempt and automatic retry; others are left alone."""
    query = select(col(OutboxRow.id), col(OutboxRow.state))
    if ids is None:
        query = query.where(col(OutboxRow.state) == DEAD)
    else:
        query = query.where(col(OutboxRow.id).in_(sorted({i for i in ids if 0 < i <= ID_MAX})))
    states = {int(i): str(s) for i, s in session.execute(query.order_by(col(OutboxRow.id)))}
    dead = [i for i, s in states.items() if s == DEAD]
    if dead:
        session.execute(
            update(OutboxRow)
            .execution_options(synchronize_session=False)
            .where(col(OutboxRow.id).in_(dead))
            .where(col(OutboxRow.state) == DEAD)
            .values(
                state=PENDING,
                attempts=0,
                revivals=0,
                next_attempt_at=now,
                claimed_until=None,
                updated_at=now,
            )
        )
    wanted = states if ids is None else {i: states.get(i, "missing") for i in sorted(set(ids))}
    skipped = tuple((i, s) for i, s in wanted.items() if s != DEAD)
    return Requeued(requeued=tuple(dead), skipped=skipped)
