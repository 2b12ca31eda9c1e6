"""Repositories of runs and their failures."""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bot.ports.store import FailureRecord, NewRun, RunRecord
from bot.store.common import upsert, utc
from bot.store.tables import MESSAGE_CAP, TEXT_CAP, FailureRow, Run

_RUNS = Run.__table__  # type: ignore[attr-defined]
_FAILURES = FailureRow.__table__  # type: ignore[attr-defined]
_REPLAY_BATCH = 2000


def _run_record(row: Any) -> RunRecord:
    return RunRecord(
        id=row.id,
        run=NewRun(
            suite=row.suite,
            environment=row.environment,
            branch=row.branch,
            commit=row.commit,
            ci_url=row.ci_url,
            started_at=utc(row.started_at),
            ingested_at=utc(row.ingested_at),
            format=row.format,
            counts=dict(row.counts),
            tests=row.tests,
            failure_count=row.failure_count,
            report_digest=row.report_digest,
            knowledge_digest=row.knowledge_digest,
            source=row.source,
        ),
    )


class SqlRuns:
    """Runs, deduplicated by (suite, environment, report digest)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, *, suite: str, environment: str, digest: str) -> RunRecord | None:
        """Return the stored run of this report, if any."""
        query = select(_RUNS).where(
            _RUNS.c.suite == suite,
            _RUNS.c.environment == environment,
            _RUNS.c.report_digest == digest,
        )
        row = self.session.execute(query).first()
        return None if row is None else _run_record(row)

    def add(self, *, run: NewRun) -> int | None:
        """Insert a run; None when a run with the same digest exists (even a concurrent one)."""
        values = {
            "suite": run.suite,
            "environment": run.environment,
            "branch": run.branch,
            "commit": run.commit,
            "ci_url": run.ci_url,
            "started_at": utc(run.started_at),
            "ingested_at": utc(run.ingested_at),
            "format": run.format,
            "counts": run.counts,
            "tests": run.tests,
            "failure_count": run.failure_count,
            "report_digest": run.report_digest,
            "knowledge_digest": run.knowledge_digest,
            "source": run.source,
        }
        # ON CONFLICT DO NOTHING waits for a concurrent insert of the same key, then skips.
        statement = (
            upsert(self.session, _RUNS)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["suite", "environment", "report_digest"])
            .returning(_RUNS.c.id)
        )
        new_id = self.session.execute(statement).scalar()
        return None if new_id is None else int(new_id)

    def get(self, *, run_id: int) -> RunRecord | None:
        row = self.session.execute(select(_RUNS).where(_RUNS.c.id == run_id)).first()
        return None if row is None else _run_record(row)

    def previous(self, *, suite: str, environment: str, before: datetime, limit: int) -> list[int]:
        """Return ids of the suite's runs started before `before`, newest first."""
        query = (
            select(_RUNS.c.id)
            .where(
                _RUNS.c.suite == suite,
                _RUNS.c.environment == environment,
                _RUNS.c.started_at < utc(before),
            )
            .order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc())
            .limit(limit)
        )
        return [int(i) for i in self.session.execute(query).scalars()]

    def page(self, *, suite: str | None, offset: int, limit: int) -> tuple[list[RunRecord], int]:
        """Return one page of runs, newest first, and the total."""
        where = [] if suite is None else [_RUNS.c.suite == suite]
        total = self.session.execute(select(func.count()).select_from(_RUNS).where(*where))
        query = (
            select(_RUNS)
            .where(*where)
            .order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = [_run_record(r) for r in self.session.execute(query)]
        return rows, int(total.scalar_one())


def _failure_values(f: FailureRecord) -> dict[str, Any]:
    return {
        "run_id": f.run_id,
        "suite": f.suite,
        "environment": f.environment,
        "started_at": utc(f.started_at),
        "nodeid": f.nodeid,
        "phase": f.phase,
        "outcome": f.outcome,
        "exception": f.exception,
        "chain": "\n".join(f.chain),
        "message": f.message[:MESSAGE_CAP],
        "text": f.text[:TEXT_CAP],
        "keywords": "\n".join(f.keywords),
        "fingerprint": f.fingerprint,
        "signature_version": f.signature_version,
        "known_issue": f.known_issue,
        "rule": f.rule,
        "classification": f.classification,
        "category": f.category,
    }


def failure_record(row: Any) -> FailureRecord:
    return FailureRecord(
        run_id=row.run_id,
        suite=row.suite,
        environment=row.environment,
        started_at=utc(row.started_at),
        nodeid=row.nodeid,
        phase=row.phase,
        outcome=row.outcome,
        exception=row.exception,
        chain=tuple(row.chain.split("\n")) if row.chain else (),
        message=row.message,
        text=row.text,
        keywords=tuple(row.keywords.split("\n")) if row.keywords else (),
        fingerprint=row.fingerprint,
        signature_version=row.signature_version,
        known_issue=row.known_issue,
        rule=row.rule,
        classification=row.classification,
        category=row.category,
    )


class SqlFailures:
    """Failures of runs, written in bulk."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, *, rows: Sequence[FailureRecord]) -> None:
        """Insert every failure of a run in one executemany."""
        if rows:
            self.session.execute(_FAILURES.insert(), [_failure_values(f) for f in rows])

    def outcomes(
        self, *, run_ids: Sequence[int], nodeids: Collection[str]
    ) -> dict[int, dict[str, str]]:
        """Map run id -> node id -> stored outcome, for the given runs and tests."""
        found: dict[int, dict[str, str]] = {i: {} for i in run_ids}
        if not run_ids or not nodeids:
            return found
        wanted = nodeids if isinstance(nodeids, set | frozenset) else set(nodeids)
        query = select(_FAILURES.c.run_id, _FAILURES.c.nodeid, _FAILURES.c.outcome).where(
            _FAILURES.c.run_id.in_(list(run_ids))
        )
        for run_id, nodeid, outcome in self.session.execute(query):
            if nodeid in wanted:
                found[run_id][nodeid] = outcome
        return found

    def for_run(self, *, run_id: int) -> list[FailureRecord]:
        query = select(_FAILURES).where(_FAILURES.c.run_id == run_id).order_by(_FAILURES.c.id)
        return [failure_record(r) for r in self.session.execute(query)]

    def count_matching(self, *, glob: str) -> int:
        """Count failures whose node id matches `glob`, one pass over distinct node ids."""
        query = (
            select(_FAILURES.c.nodeid, func.count())
            .where(_FAILURES.c.outcome != "flaky")
            .group_by(_FAILURES.c.nodeid)
        )
        total = 0
        for nodeid, count in self.session.execute(query):
            if fnmatch.fnmatchcase(nodeid, glob):
                total += count
        return total

    def replay(self, *, since: datetime | None) -> Iterator[FailureRecord]:
        """Yield stored failures, flaky passes excluded, oldest first, in batches by id."""
        last = 0
        while True:
            query = select(_FAILURES).where(_FAILURES.c.id > last, _FAILURES.c.outcome != "flaky")
            if since is not None:
                query = query.where(_FAILURES.c.started_at >= utc(since))
            rows = list(self.session.execute(query.order_by(_FAILURES.c.id).limit(_REPLAY_BATCH)))
            if not rows:
                return
            last = rows[-1].id
            yield from (failure_record(r) for r in rows)
