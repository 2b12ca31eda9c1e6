"""Repository of clusters: unmatched failures sharing a fingerprint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from bot.core.clusters import ClusterSummary
from bot.store.common import upsert, utc
from bot.store.tables import Cluster

_CLUSTERS = Cluster.__table__  # type: ignore[attr-defined]


def _cluster_record(row: Any) -> ClusterSummary:
    return ClusterSummary(
        fingerprint=row.fingerprint,
        suite=row.suite,
        first_seen=utc(row.first_seen),
        last_seen=utc(row.last_seen),
        count=row.count,
        runs=row.runs,
        exception=row.exception,
        example_nodeid=row.example_nodeid,
        example_message=row.example_message,
        suggested_rule=row.suggested_rule,
    )


class SqlClusters:
    """Unmatched fingerprints with counts that add up run after run."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, *, hits: Sequence[ClusterSummary]) -> None:
        """Add one run's unmatched failures to their clusters."""
        if not hits:
            return
        values = [
            {
                "fingerprint": h.fingerprint,
                "suite": h.suite,
                "first_seen": utc(h.first_seen),
                "last_seen": utc(h.last_seen),
                "count": h.count,
                "runs": h.runs,
                "exception": h.exception,
                "example_nodeid": h.example_nodeid,
                "example_message": h.example_message,
                "suggested_rule": h.suggested_rule,
            }
            for h in sorted(hits, key=lambda h: h.fingerprint)  # one lock order for all writers
        ]
        statement = upsert(self.session, _CLUSTERS)
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["fingerprint"],
            set_={
                "count": _CLUSTERS.c.count + new.count,
                "runs": _CLUSTERS.c.runs + new.runs,
                "first_seen": case(
                    (new.first_seen < _CLUSTERS.c.first_seen, new.first_seen),
                    else_=_CLUSTERS.c.first_seen,
                ),
                "last_seen": case(
                    (new.last_seen > _CLUSTERS.c.last_seen, new.last_seen),
                    else_=_CLUSTERS.c.last_seen,
                ),
            },
        )
        self.session.execute(statement, values)

    def top(self, *, offset: int, limit: int) -> tuple[list[ClusterSummary], int]:
        """Return clusters by failure count, largest first, and the total."""
        total = self.session.execute(select(func.count()).select_from(_CLUSTERS)).scalar_one()
        query = (
            select(_CLUSTERS)
            .order_by(_CLUSTERS.c.count.desc(), _CLUSTERS.c.last_seen.desc(), _CLUSTERS.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [_cluster_record(r) for r in self.session.execute(query)], int(total)
