"""Repositories of known issues' GitHub state, manual links, wrong matches and rule statistics."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.ports.store import IssueState, IssueStats, ManualLinkRecord, RuleStats
from bot.store.common import maybe_utc, upsert, utc
from bot.store.tables import (
    FailureRow,
    IssueTotal,
    KnownIssueState,
    ManualLink,
    RuleTotal,
    WrongMatch,
)

_ISSUES = KnownIssueState.__table__  # type: ignore[attr-defined]
_LINKS = ManualLink.__table__  # type: ignore[attr-defined]
_WRONG = WrongMatch.__table__  # type: ignore[attr-defined]
_TOTALS = IssueTotal.__table__  # type: ignore[attr-defined]
_RULES = RuleTotal.__table__  # type: ignore[attr-defined]
_FAILURES = FailureRow.__table__  # type: ignore[attr-defined]


class SqlIssueStates:
    """Known issues' open/closed state as GitHub last reported it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[IssueState]:
        query = select(_ISSUES).order_by(_ISSUES.c.number)
        return [
            IssueState(r.number, r.state, r.title, r.state_reason, utc(r.updated_at))
            for r in self.session.execute(query)
        ]

    def set(self, *, state: IssueState) -> None:
        """Store an issue's state unless a newer one is stored already."""
        values = {
            "number": state.number,
            "state": state.state,
            "title": state.title,
            "state_reason": state.state_reason,
            "updated_at": utc(state.updated_at),
        }
        # Built once per dialect and run on the connection: the `issues` webhook's hot path.
        connection = self.session.connection()
        connection.execute(set_state_statement(connection.dialect.name), values)


@cache
def set_state_statement(dialect: str) -> Any:
    """Upsert of an issue's state that never overwrites newer news."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_ISSUES)
    return statement.on_conflict_do_update(
        index_elements=["number"],
        set_={k: statement.excluded[k] for k in ("state", "title", "state_reason", "updated_at")},
        where=_ISSUES.c.updated_at <= statement.excluded.updated_at,
    )


class SqlLinks:
    """Manual links (/triage link) and wrong-match reports (/triage wrong)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def links(self) -> list[ManualLinkRecord]:
        query = select(_LINKS).order_by(_LINKS.c.id)
        return [
            ManualLinkRecord(r.id, r.issue, r.kind, r.pattern, r.created_by, utc(r.at))
            for r in self.session.execute(query)
        ]

    def add_link(
        self, *, issue: int, kind: str, pattern: str, created_by: str, at: datetime
    ) -> bool:
        """Link a pattern to an issue, re-pointing an existing link; True when it is new."""
        where = (_LINKS.c.kind == kind, _LINKS.c.pattern == pattern)
        changed = self.session.execute(
            update(_LINKS).where(*where).values(issue=issue, created_by=created_by, at=utc(at))
        )
        if changed.rowcount:  # type: ignore[attr-defined]
            return False
        statement = upsert(self.session, _LINKS).values(
            issue=issue, kind=kind, pattern=pattern, created_by=created_by, at=utc(at)
        )
        inserted = self.session.execute(statement.on_conflict_do_nothing().returning(_LINKS.c.id))
        return inserted.scalar() is not None

    def remove_link(self, *, kind: str, pattern: str) -> bool:
        statement = delete(_LINKS).where(_LINKS.c.kind == kind, _LINKS.c.pattern == pattern)
        return bool(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def add_wrong_match(
        self,
        *,
        run_id: int,
        nodeid: str,
        issue: int | None,
        rule: str | None,
        reported_by: str,
        at: datetime,
    ) -> bool:
        """Record a wrong match once per failure; True when it is new."""
        statement = upsert(self.session, _WRONG).values(
            run_id=run_id,
            nodeid=nodeid,
            issue=issue,
            rule=rule,
            reported_by=reported_by,
            at=utc(at),
        )
        result = self.session.execute(statement.on_conflict_do_nothing().returning(_WRONG.c.id))
        return result.scalar() is not None


class SqlReadModels:
    """Aggregates for the known-issues API, read from the totals the triggers keep.

    One row per issue and one per rule: the list costs the same with a year of history.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def issue_stats(self) -> list[IssueStats]:
        """Count each known issue's occurrences and runs, with when it was last seen."""
        query = select(
            _TOTALS.c.known_issue, _TOTALS.c.occurrences, _TOTALS.c.runs, _TOTALS.c.last_seen
        ).order_by(_TOTALS.c.known_issue)
        return [
            IssueStats(int(issue), int(count), int(runs), maybe_utc(last))
            for issue, count, runs, last in self.session.execute(query)
        ]

    def rule_stats(self) -> list[RuleStats]:
        """Count each rule's matches and the wrong matches people reported.

        A failure marked wrong is re-judged without the rule, yet the rule did claim it: such
        a failure still counts as one of the rule's matches, so precision stays 1 - wrong/matches.
        """
        matches = select(_RULES.c.rule, _RULES.c.known_issue, _RULES.c.matches).where(
            _RULES.c.rule != ""
        )
        counts = {(rule, int(issue)): int(n) for rule, issue, n in self.session.execute(matches)}
        wrong: dict[str, int] = {}
        for rule, issue, still_matched in self._wrong_marks():
            wrong[rule] = wrong.get(rule, 0) + 1
            if not still_matched:
                counts[(rule, issue)] = counts.get((rule, issue), 0) + 1
        return sorted(
            (RuleStats(rule, issue, n, wrong.get(rule, 0)) for (rule, issue), n in counts.items()),
            key=lambda r: (r.issue, r.rule),
        )

    def _wrong_marks(self) -> list[tuple[str, int, bool]]:
        """Each wrong mark's rule and issue, and whether its failure still carries that rule."""
        marks = self.session.execute(
            select(_WRONG.c.rule, _WRONG.c.issue, _WRONG.c.run_id, _WRONG.c.nodeid).where(
                _WRONG.c.rule.is_not(None), _WRONG.c.issue.is_not(None)
            )
        ).all()
        if not marks:
            return []
        held = self.session.execute(
            select(_FAILURES.c.run_id, _FAILURES.c.nodeid, _FAILURES.c.rule).where(
                _FAILURES.c.run_id.in_({m.run_id for m in marks}),
                _FAILURES.c.rule.is_not(None),
            )
        )
        carried = {(r.run_id, r.nodeid, r.rule) for r in held}
        return [(m.rule, m.issue, (m.run_id, m.nodeid, m.rule) in carried) for m in marks]
