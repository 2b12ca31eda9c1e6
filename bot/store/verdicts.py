"""What a run's verdict reads: the runs before it and where a test failed among them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from bot.core.model import Outcome
from bot.store.tables import FailureRow, Run

_RUNS = Run.__table__  # type: ignore[attr-defined]
_FAILURES = FailureRow.__table__  # type: ignore[attr-defined]
FLAKY_PASS = Outcome.FLAKY.value  # a test that passed on rerun: stored, but not a failure


class SqlVerdictHistory:
    """Suite history for verdicts and suspect ranges, on the indexes runs and failures have."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def runs_back(self, *, run_id: int, limit: int) -> list[tuple[int, str | None]]:
        """This run and the suite's runs started before it, newest first: (id, commit)."""
        this = self.session.execute(
            select(_RUNS.c.suite, _RUNS.c.environment, _RUNS.c.started_at).where(
                _RUNS.c.id == run_id
            )
        ).first()
        if this is None:
            return []
        suite, environment, started = this
        earlier = or_(
            _RUNS.c.started_at < started,
            and_(_RUNS.c.started_at == started, _RUNS.c.id <= run_id),
        )
        query = (
            select(_RUNS.c.id, _RUNS.c.commit)
            .where(_RUNS.c.suite == suite, _RUNS.c.environment == environment, earlier)
            .order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc())
            .limit(limit)
        )
        return [(row.id, row.commit) for row in self.session.execute(query)]

    def failed_in(self, *, nodeid: str, run_ids: Sequence[int]) -> set[int]:
        """The runs among `run_ids` in which the test failed (a flaky pass is no failure)."""
        if not run_ids:
            return set()
        query = select(_FAILURES.c.run_id).where(
            _FAILURES.c.run_id.in_(list(run_ids)),
            _FAILURES.c.nodeid == nodeid,
            _FAILURES.c.outcome != FLAKY_PASS,
        )
        return set(self.session.scalars(query))

    def latest_run(self, *, suite: str, environment: str) -> int | None:
        """The suite's newest run by its own start time."""
        query = (
            select(_RUNS.c.id)
            .where(_RUNS.c.suite == suite, _RUNS.c.environment == environment)
            .order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def latest_runs(self) -> list[tuple[str, str, int]]:
        """Each suite and environment with its newest run: (suite, environment, run id)."""
        pairs = self.session.execute(select(_RUNS.c.suite, _RUNS.c.environment).distinct()).all()
        found = []
        for suite, environment in sorted(pairs):
            run_id = self.latest_run(suite=suite, environment=environment)
            if run_id is not None:
                found.append((suite, environment, run_id))
        return found
