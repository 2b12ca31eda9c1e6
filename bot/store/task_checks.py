"""The task criteria's checks on the tracking issue: appended rows, read back per criterion."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlmodel import Session

from bot.core.tasklist import TaskCheck
from bot.core.timeutil import as_utc
from bot.store.tables import TEXT_CAP, TaskCheckRow

_T = TaskCheckRow.__table__.c  # type: ignore[attr-defined]
# A login is at most 39 characters on GitHub; anything longer is cut, not refused.
_LOGIN_CAP = 100


class SqlTaskChecks:
    """Task checks in the unit of work's session (the caller commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *, checks: Sequence[TaskCheck]) -> None:
        """Append checks, in order."""
        if not checks:
            return
        rows = [
            {
                "criterion": c.criterion, "checked": c.checked,
                "by": c.by[:_LOGIN_CAP] if c.by is not None else None, "at": c.at,
                "item": c.item[:TEXT_CAP], "source": c.source,
            }
            for c in checks
        ]  # fmt: skip
        self.session.execute(insert(TaskCheckRow.__table__), rows)  # type: ignore[attr-defined]

    def history(self) -> list[TaskCheck]:
        """Every check, oldest first (a few rows per task criterion)."""
        query = select(_T.criterion, _T.checked, _T.by, _T.at, _T.item, _T.source).order_by(
            _T.at, _T.id
        )
        return [
            TaskCheck(r.criterion, bool(r.checked), r.by, as_utc(r.at), r.item, r.source)
            for r in self.session.execute(query)
        ]

    def latest(self) -> dict[str, bool]:
        """Each criterion's newest state by its time (GitHub may deliver edits out of order)."""
        order = (_T.at.desc(), _T.id.desc())
        rank = func.row_number().over(partition_by=_T.criterion, order_by=order).label("rank")
        ranked = select(_T.criterion, _T.checked, rank).subquery()
        query = select(ranked.c.criterion, ranked.c.checked).where(ranked.c.rank == 1)
        return {r.criterion: bool(r.checked) for r in self.session.execute(query)}
