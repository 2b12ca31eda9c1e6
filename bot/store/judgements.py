"""Re-judging stored failures: the record of changes, the judged knowledge digest, clusters."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlmodel import Session

from bot.ports.store import JudgementChange, StoredFailure
from bot.store.common import utc
from bot.store.runs import failure_record
from bot.store.tables import Cluster, FailureRow, JudgementChangeRow, KnowledgeVersion, WrongMatch

_FAILURES = FailureRow.__table__  # type: ignore[attr-defined]
_CLUSTERS = Cluster.__table__  # type: ignore[attr-defined]
_WRONG = WrongMatch.__table__  # type: ignore[attr-defined]


_CHANGES = JudgementChangeRow.__table__  # type: ignore[attr-defined]
_VERSIONS = KnowledgeVersion.__table__  # type: ignore[attr-defined]
_UPDATE = (
    update(_FAILURES)
    .where(_FAILURES.c.id == bindparam("fid"))
    .values(
        known_issue=bindparam("issue"),
        rule=bindparam("new_rule"),
        classification=bindparam("classification"),
        category=bindparam("new_category"),
    )
)


def _change(row: Any) -> JudgementChange:
    values = {k: getattr(row, k) for k in JudgementChange.__dataclass_fields__ if k != "at"}
    return JudgementChange(**values, at=utc(row.at))


class SqlJudgements:
    """Reads failures to re-judge; writes their new judgement and the record of the change."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def scan(
        self,
        *,
        fingerprint: str | None = None,
        rule: str | None = None,
        after_id: int = 0,
        limit: int = 2000,
    ) -> list[StoredFailure]:
        query = select(_FAILURES).where(_FAILURES.c.id > after_id, _FAILURES.c.outcome != "flaky")
        if fingerprint is not None:
            query = query.where(_FAILURES.c.fingerprint == fingerprint)
        if rule is not None:
            query = query.where(_FAILURES.c.rule == rule)
        rows = self.session.execute(query.order_by(_FAILURES.c.id).limit(limit))
        return [StoredFailure(r.id, failure_record(r)) for r in rows]

    def of_tests(
        self, *, suite: str, environment: str, nodeids: Collection[str], run_ids: Sequence[int]
    ) -> list[StoredFailure]:
        if not nodeids or not run_ids:
            return []
        query = select(_FAILURES).where(
            _FAILURES.c.run_id.in_(list(run_ids)),
            _FAILURES.c.nodeid.in_(sorted(nodeids)),
            _FAILURES.c.suite == suite,
            _FAILURES.c.environment == environment,
            _FAILURES.c.outcome != "flaky",
        )
        rows = self.session.execute(query.order_by(_FAILURES.c.id))
        return [StoredFailure(r.id, failure_record(r)) for r in rows]

    def wrong(self) -> dict[tuple[int, str], int | None]:
        query = select(_WRONG.c.run_id, _WRONG.c.nodeid, _WRONG.c.issue)
        return {(r.run_id, r.nodeid): r.issue for r in self.session.execute(query)}

    def apply(self, *, changes: Sequence[JudgementChange]) -> None:
        if not changes:
            return
        self.session.execute(
            _UPDATE,
            [
                {
                    "fid": c.failure_id,
                    "issue": c.after_issue,
                    "new_rule": c.after_rule,
                    "classification": c.after_classification,
                    "new_category": c.after_category,
                }
                for c in changes
            ],
        )
        self.session.execute(_CHANGES.insert(), [_values(c) for c in changes])

    def recount_clusters(self, *, fingerprints: Collection[str]) -> None:
        for fp in sorted(set(fingerprints)):  # one lock order for every writer
            if not fp:
                continue
            query = select(
                func.count(),
                func.count(func.distinct(_FAILURES.c.run_id)),
                func.min(_FAILURES.c.started_at),
                func.max(_FAILURES.c.started_at),
            ).where(
                _FAILURES.c.fingerprint == fp,
                _FAILURES.c.known_issue.is_(None),
                _FAILURES.c.outcome != "flaky",
            )
            count, runs, first, last = self.session.execute(query).one()
            if not count:
                self.session.execute(delete(_CLUSTERS).where(_CLUSTERS.c.fingerprint == fp))
                continue
            self.session.execute(
                update(_CLUSTERS)
                .where(_CLUSTERS.c.fingerprint == fp)
                .values(count=count, runs=runs, first_seen=utc(first), last_seen=utc(last))
            )

    def changes(
        self, *, run_id: int | None, offset: int, limit: int
    ) -> tuple[list[JudgementChange], int]:
        where = [] if run_id is None else [_CHANGES.c.run_id == run_id]
        total = self.session.execute(
            select(func.count()).select_from(_CHANGES).where(*where)
        ).scalar_one()
        query = (
            select(_CHANGES)
            .where(*where)
            .order_by(_CHANGES.c.at.desc(), _CHANGES.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_change(r) for r in self.session.execute(query)], int(total)

    def knowledge_digest(self) -> str | None:
        query = select(_VERSIONS.c.digest).order_by(_VERSIONS.c.id.desc()).limit(1)
        found: str | None = self.session.execute(query).scalar()
        return found

    def set_knowledge_digest(self, *, digest: str, at: datetime, changed: int) -> None:
        self.session.execute(_VERSIONS.insert().values(digest=digest, at=utc(at), changed=changed))


def _values(c: JudgementChange) -> dict[str, Any]:
    return {k: getattr(c, k) for k in JudgementChange.__dataclass_fields__} | {"at": utc(c.at)}
