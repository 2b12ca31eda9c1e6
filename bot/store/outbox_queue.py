"""The sender's side of the outbox: each operation one short transaction on an engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.core.redact import redact
from bot.ports.outbox import CheckRunRecords, OutboxItem, OutboxQueue, OutboxStats, Requeued
from bot.store.common import utc
from bot.store.engine import writer
from bot.store.outbox_dead import requeue, revive_dead
from bot.store.outbox_repository import DEAD, PENDING, SENT, SUPERSEDED, OutboxRepository
from bot.store.tables import OutboxRow


class SqlOutboxQueue:
    """The sender's OutboxQueue: each call is one short transaction on the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _repo(self, *, write: bool = True) -> Iterator[OutboxRepository]:
        with Session(writer(self.engine) if write else self.engine) as session:
            yield OutboxRepository(session)
            session.commit()

    def claim_next(self, *, now: datetime, lease_s: float) -> OutboxItem | None:
        """Claim one due row (see OutboxRepository.claim_next)."""
        with self._repo() as repo:
            return repo.claim_next(now=now, lease_s=lease_s)

    def complete(self, item_id: int, *, result_id: int | None, now: datetime) -> None:
        """Mark a row sent."""
        with self._repo() as repo:
            repo.complete(item_id, result_id=result_id, now=now)

    def retry_later(self, item_id: int, *, error: str, at: datetime, uncount: bool = False) -> None:
        """Put a row back for later."""
        with self._repo() as repo:
            repo.retry_later(item_id, error=error, at=at, uncount=uncount)

    def dead(
        self, item_id: int, *, error: str, now: datetime, revive_after_s: Sequence[float] = ()
    ) -> None:
        """Dead-letter a row, to come back on the schedule."""
        with self._repo() as repo:
            repo.dead(item_id, error=error, now=now, revive_after_s=revive_after_s)

    def begin_write(self, item_id: int, *, now: datetime) -> None:
        """Mark the row in doubt before its write is sent (committed before the request)."""
        with self._repo() as repo:
            repo.begin_write(item_id, now=now)

    def clear_doubt(self, item_id: int) -> None:
        """Take the row out of doubt: GitHub refused the write."""
        with self._repo() as repo:
            repo.clear_doubt(item_id)

    def revive_dead(self, *, now: datetime, max_revivals: int) -> int:
        """Put back the dead rows whose automatic retry is due."""
        with self._repo() as repo:
            return revive_dead(repo.session, now=now, max_revivals=max_revivals)

    def requeue(self, ids: Sequence[int] | None, *, now: datetime) -> Requeued:
        """Put dead rows back for a send now."""
        with self._repo() as repo:
            return requeue(repo.session, ids, now=now)

    def next_due_at(self) -> datetime | None:
        """Return when the next pending row becomes due."""
        with self._repo(write=False) as repo:
            return repo.next_due_at()

    def comment_record(self, issue: int, marker: str) -> tuple[int, str] | None:
        """Read a comment record."""
        with self._repo(write=False) as repo:
            return repo.comment_record(issue, marker)

    def save_comment_record(
        self, issue: int, marker: str, *, comment_id: int, body: str, now: datetime
    ) -> None:
        """Write a comment record."""
        with self._repo() as repo:
            repo.save_comment_record(issue, marker, comment_id=comment_id, body=body, now=now)

    def drop_comment_record(self, issue: int, marker: str) -> None:
        """Delete a comment record."""
        with self._repo() as repo:
            repo.drop_comment_record(issue, marker)

    def check_run_id(self, run_id: int, name: str) -> int | None:
        """Read the check run of a run's verdict."""
        with self._repo(write=False) as repo:
            return repo.check_run_id(run_id, name)

    def save_check_run(self, run_id: int, name: str, *, check_run_id: int, now: datetime) -> None:
        """Remember the check run of a run's verdict."""
        with self._repo() as repo:
            repo.save_check_run(run_id, name, check_run_id=check_run_id, now=now)

    def drop_check_run(self, run_id: int, name: str, *, now: datetime) -> None:
        """Forget a check run GitHub answered 404 for."""
        with self._repo() as repo:
            repo.drop_check_run(run_id, name, now=now)

    def stats(self, *, dead_limit: int = 50) -> OutboxStats:
        """Count rows per state."""
        with self._repo(write=False) as repo:
            return repo.stats(dead_limit=dead_limit)


_PORT_CHECK: type[OutboxQueue] = SqlOutboxQueue  # mypy checks the class against the port


# --- Reading the rows themselves: what was, or would be, written (dry run or not).

PAGE_MAX = 200  # rows in one listing; bodies can be 65,536 characters each
STATES = (PENDING, SENT, DEAD, SUPERSEDED)
SUMMARY_CAP = 120


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row as people read it; texts masked again on the way out."""

    id: int
    key: str
    kind: str
    state: str
    issue: int | None  # None: a new issue in the repository
    title: str | None  # a new issue's title
    summary: str  # one line: the body's first line, or the state change
    body: str | None  # None for a state change
    attempts: int
    in_doubt: bool
    revivals: int
    last_error: str | None
    result_id: int | None  # the comment or issue GitHub gave back
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime


def _first_line(text: str) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return line if len(line) <= SUMMARY_CAP else line[: SUMMARY_CAP - 1] + "…"


def _summary(kind: str, payload: dict[str, Any]) -> str:
    if kind == "SetIssueState":
        verb = "close" if payload.get("state") == "closed" else "reopen"
        reason = payload.get("reason")
        return f"{verb} #{payload.get('issue')}" + (f" as {reason}" if reason else "")
    if kind == "CreateIssue":
        return _first_line(str(payload.get("title", "")))
    if kind == "SetCommitVerdict":
        where = f"{payload.get('mode', 'check_run')} {payload.get('name', '')}"
        sha = str(payload.get("sha", ""))[:12]
        verdict = f"({payload.get('conclusion')}): {payload.get('title')}"
        return _first_line(f"{where} on {sha} {verdict}")
    return _first_line(str(payload.get("body", "")))


def _entry(row: OutboxRow) -> OutboxEntry:
    payload = dict(row.payload)
    body, title, issue = payload.get("body"), payload.get("title"), payload.get("issue")
    if row.kind == "SetCommitVerdict":  # the check run's summary is the text it would show
        body, title = payload.get("summary"), payload.get("title")
    return OutboxEntry(
        id=row.id or 0,
        key=row.key,
        kind=row.kind,
        state=row.state,
        issue=issue if isinstance(issue, int) else None,
        title=redact(title) if isinstance(title, str) else None,
        summary=redact(_summary(row.kind, payload)),
        body=redact(body) if isinstance(body, str) else None,
        attempts=row.attempts,
        in_doubt=row.doubt_since is not None and row.state == PENDING,
        revivals=row.revivals,
        last_error=redact(row.last_error) if row.last_error else None,
        result_id=row.result_id,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        next_attempt_at=utc(row.next_attempt_at),
    )


def list_entries(
    engine: Engine, *, state: str | None = None, before: int | None = None, limit: int = 50
) -> tuple[list[OutboxEntry], bool]:
    """Return up to `limit` rows below id `before`, newest first, and whether more follow."""
    size = max(1, min(limit, PAGE_MAX))
    query = select(OutboxRow).order_by(col(OutboxRow.id).desc()).limit(size + 1)
    if state is not None:
        query = query.where(col(OutboxRow.state) == state)  # ix_outbox_pending: (state, id)
    if before is not None:
        query = query.where(col(OutboxRow.id) < before)
    with Session(engine) as session:
        rows = [_entry(row) for row in session.execute(query).scalars()]
    return rows[:size], len(rows) > size


def get_entry(engine: Engine, item_id: int) -> OutboxEntry | None:
    """Return one row, or None when there is no such id."""
    with Session(engine) as session:
        row = session.get(OutboxRow, item_id)
        return None if row is None else _entry(row)


_RECORDS_CHECK: type[CheckRunRecords] = SqlOutboxQueue
