"""Run identity: one row per stored run with its content key, so another format is one run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from bot.ports.store import RunIdentity
from bot.store.common import utc
from bot.store.tables import RunIdentityRow

_IDS = RunIdentityRow.__table__  # type: ignore[attr-defined]


class SqlRunIdentities:
    """Finds the stored run a report's content belongs to."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def candidates(
        self, *, suite: str, environment: str, key: str, start: datetime, end: datetime
    ) -> list[RunIdentity]:
        query = (
            select(_IDS)
            .where(
                _IDS.c.suite == suite,
                _IDS.c.environment == environment,
                _IDS.c.content_key == key,
                _IDS.c.started_at >= utc(start),
                _IDS.c.started_at <= utc(end),
            )
            .order_by(_IDS.c.run_id)
            .limit(20)  # runs of one content within minutes of each other: a handful at most
        )
        return [
            RunIdentity(r.run_id, r.content_key, utc(r.started_at), tuple(r.durations))
            for r in self.session.execute(query)
        ]

    def add(self, *, suite: str, environment: str, identity: RunIdentity) -> None:
        self.session.execute(
            _IDS.insert().values(
                run_id=identity.run_id,
                suite=suite,
                environment=environment,
                content_key=identity.content_key,
                started_at=utc(identity.started_at),
                durations=list(identity.durations),
            )
        )
