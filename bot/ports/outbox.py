"""Outbox ports: the durable queue of GitHub writes, as writers and as the sender see it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.intents import Intent, SetCommitVerdict


class Outbox(Protocol):
    """Durable queue of GitHub writes, written in the caller's transaction."""

    def enqueue(self, intents: Sequence[Intent], *, now: datetime) -> int:
        """Store intents not stored before (by key); return how many were new."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One claimed outbox row: the intent and how many attempts were started (this one too).

    doubt_since is when a write of this row was sent whose outcome is still unknown (a time-out,
    a dropped connection, a 5xx, or a crash before the answer was recorded): its marker must be
    looked for before anything is written again.
    """

    id: int
    intent: Intent
    attempts: int
    created_at: datetime
    doubt_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """What the API shows of the outbox: depth per state and the dead rows."""

    pending: int
    sent: int
    dead: int
    superseded: int
    dead_rows: tuple[dict[str, object], ...]
    in_doubt: int = 0  # pending rows whose last write's outcome is not known yet


@dataclass(frozen=True, slots=True)
class Requeued:
    """What a manual retry did: the rows put back, and the ids left alone with their state."""

    requeued: tuple[int, ...]
    skipped: tuple[tuple[int, str], ...]  # (id, state), state "missing" for an unknown id


class OutboxQueue(Protocol):
    """The sender's side of the outbox; each call is its own short transaction."""

    def claim_next(self, *, now: datetime, lease_s: float) -> OutboxItem | None:
        """Take the oldest due pending row, count the attempt, hide it for lease_s seconds."""
        ...

    def complete(self, item_id: int, *, result_id: int | None, now: datetime) -> None: ...

    def retry_later(self, item_id: int, *, error: str, at: datetime, uncount: bool = False) -> None:
        """Leave the row pending until `at`; uncount: this claim was a look, not an attempt."""
        ...

    def dead(
        self, item_id: int, *, error: str, now: datetime, revive_after_s: Sequence[float] = ()
    ) -> None:
        """Dead-letter the row; it comes back by itself revive_after_s[n] s after its n-th death."""
        ...

    def begin_write(self, item_id: int, *, now: datetime) -> None:
        """Record, before sending, that a write of the row may happen from `now` (in doubt)."""
        ...

    def clear_doubt(self, item_id: int) -> None:
        """GitHub refused the write outright: nothing was written, the row is not in doubt."""
        ...

    def revive_dead(self, *, now: datetime, max_revivals: int) -> int:
        """Put back dead rows whose automatic retry is due; return how many."""
        ...

    def requeue(self, ids: Sequence[int] | None, *, now: datetime) -> Requeued:
        """Put dead rows back (these ids, or every dead row for None) for a send now."""
        ...

    def next_due_at(self) -> datetime | None:
        """Return when the next pending row becomes due, or None when none is pending."""
        ...

    def comment_record(self, issue: int, marker: str) -> tuple[int, str] | None:
        """Return the (comment id, body) last written for this issue and marker."""
        ...

    def save_comment_record(
        self, issue: int, marker: str, *, comment_id: int, body: str, now: datetime
    ) -> None: ...

    def drop_comment_record(self, issue: int, marker: str) -> None: ...

    def stats(self, *, dead_limit: int = 50) -> OutboxStats: ...


# --- commit verdicts: the check run each run's verdict went to, and the verdicts planned


@runtime_checkable
class CheckRunRecords(Protocol):
    """The check run each run's verdict was written to, remembered beside the outbox."""

    def check_run_id(self, run_id: int, name: str) -> int | None: ...

    def save_check_run(
        self, run_id: int, name: str, *, check_run_id: int, now: datetime
    ) -> None: ...

    def drop_check_run(self, run_id: int, name: str, *, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class PlannedVerdict:
    """The last verdict planned for a run's commit, and how many were planned."""

    intent: SetCommitVerdict
    digest: str
    revision: int
    web: str | None
    public_url: str | None


@runtime_checkable
class VerdictPlans(Protocol):
    """The verdicts planned per run, in the unit of work's transaction (an outbox extension)."""

    def planned_verdicts(self, *, run_ids: Collection[int]) -> list[PlannedVerdict]: ...

    def plan_verdict(
        self,
        intent: SetCommitVerdict,
        *,
        digest: str,
        web: str | None,
        public_url: str | None,
        revision: int,
        now: datetime,
    ) -> None:
        """Enqueue the write and remember it as the run's last planned verdict."""
        ...
