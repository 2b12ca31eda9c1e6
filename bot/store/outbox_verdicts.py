"""The verdict planned for each run's commit and the check run it was written to."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session, col

from bot.core.intents import SetCommitVerdict, intent_from_payload, intent_to_payload
from bot.ports.outbox import PlannedVerdict
from bot.store.common import upsert
from bot.store.tables import CommitVerdictRow

IN_MAX = 500  # run ids per query


_TABLE = CommitVerdictRow.__table__  # type: ignore[attr-defined]


def planned_verdicts(session: Session, run_ids: Collection[int]) -> list[PlannedVerdict]:
    """The last verdict planned for each of the runs (runs never planned are left out)."""
    ids = sorted(set(run_ids))
    found: list[PlannedVerdict] = []
    for start in range(0, len(ids), IN_MAX):
        query = select(CommitVerdictRow).where(
            col(CommitVerdictRow.run_id).in_(ids[start : start + IN_MAX])
        )
        for row in session.execute(query.order_by(col(CommitVerdictRow.run_id))).scalars():
            if row.revision < 1:
                continue  # only a check run id recorded, no plan
            intent = intent_from_payload("SetCommitVerdict", row.payload)
            assert isinstance(intent, SetCommitVerdict)
            found.append(PlannedVerdict(intent, row.digest, row.revision, row.web, row.public_url))
    return found


def record_plan(
    session: Session,
    intent: SetCommitVerdict,
    *,
    digest: str,
    revision: int,
    web: str | None,
    public_url: str | None,
    now: datetime,
) -> None:
    """Remember the verdict just planned for the run, keeping the check run id found so far."""
    values = {
        "sha": intent.sha,
        "revision": revision,
        "digest": digest,
        "web": web,
        "public_url": public_url,
        "payload": intent_to_payload(intent),
        "updated_at": now,
    }
    stmt = upsert(session, _TABLE).values(run_id=intent.run_id, name=intent.name, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["run_id", "name"], set_=values))


def check_run_id(session: Session, run_id: int, name: str) -> int | None:
    """The check run the run's verdict was written to, if known."""
    row = session.get(CommitVerdictRow, (run_id, name))
    return None if row is None else row.check_run_id


def save_check_run(
    session: Session, run_id: int, name: str, *, check_run_id: int | None, now: datetime
) -> None:
    """Remember (or forget, with None) the check run of the run's verdict."""
    done = session.execute(
        update(CommitVerdictRow)
        .execution_options(synchronize_session=False)
        .where(col(CommitVerdictRow.run_id) == run_id, col(CommitVerdictRow.name) == name)
        .values(check_run_id=check_run_id, updated_at=now)
    )
    if done.rowcount or check_run_id is None:  # type: ignore[attr-defined]
        return
    # A write planned without a record (by hand): keep the id, with no plan beside it.
    session.execute(
        upsert(session, _TABLE)
        .values(
            run_id=run_id, name=name, sha="", payload={}, check_run_id=check_run_id, updated_at=now
        )
        .on_conflict_do_nothing(index_elements=["run_id", "name"])
    )
