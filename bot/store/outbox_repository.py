"""The outbox of GitHub writes and the records of the bot's comments, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    func,
    or_,
    select,
    update,
)
from sqlmodel import Field, Session, col

from bot.core.intents import (
    Intent,
    SetCommitVerdict,
    UpsertComment,
    intent_from_payload,
    intent_kind,
    intent_target,
    intent_to_payload,
)
from bot.core.redact import redact
from bot.ports.outbox import Outbox, OutboxItem, OutboxStats, PlannedVerdict, VerdictPlans
from bot.store import outbox_verdicts
from bot.store.common import maybe_utc, upsert, utc
from bot.store.tables import CommentRecord, OutboxRow

PENDING, SENT, DEAD, SUPERSEDED = "pending", "sent", "dead", "superseded"
ERROR_CAP = 500


def _dt(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable)


class OutboxRepository:
    """Outbox reads and writes inside the caller's session; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, intents: Sequence[Intent], *, now: datetime) -> int:
        """Store intents not stored before (by key); a new upsert supersedes pending ones."""
        new = 0
        for intent in intents:
            inserted = self._insert(intent, now)
            if inserted is None:
                continue
            new += 1
            # A newer verdict of a run, like a newer comment body, replaces one not sent yet.
            if isinstance(intent, UpsertComment | SetCommitVerdict):
                self.session.execute(
                    update(OutboxRow)
                    .execution_options(synchronize_session=False)
                    .where(col(OutboxRow.target) == intent_target(intent))
                    .where(col(OutboxRow.state) == PENDING)
                    .where(col(OutboxRow.id) < inserted)
                    # A write in flight or in doubt may yet land: it finishes first.
                    .where(col(OutboxRow.doubt_since).is_(None))
                    .where(
                        or_(
                            col(OutboxRow.claimed_until).is_(None),
                            col(OutboxRow.claimed_until) <= now,
                        )
                    )
                    .values(state=SUPERSEDED, updated_at=now, claimed_until=None)
                )
        return new

    def _insert(self, intent: Intent, now: datetime) -> int | None:
        table = OutboxRow.__table__  # type: ignore[attr-defined]
        stmt = (
            upsert(self.session, table)
            .values(
                key=intent.key,
                kind=intent_kind(intent),
                target=intent_target(intent),
                payload=intent_to_payload(intent),
                state=PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.id)
        )
        row = self.session.execute(stmt).first()
        return None if row is None else int(row[0])

    def claim_next(self, *, now: datetime, lease_s: float) -> OutboxItem | None:
        """Take the oldest due pending row whose target has no write in flight."""
        # Few rows are in flight at once: read their targets first, so the claim query stays
        # an index walk however deep the queue is.
        busy = set(
            self.session.execute(
                select(col(OutboxRow.target)).distinct().where(col(OutboxRow.claimed_until) > now)
            ).scalars()
        )
        # A write in doubt is still in flight for its target until its marker is found.
        busy.update(
            self.session.execute(
                select(col(OutboxRow.target))
                .distinct()
                .where(col(OutboxRow.doubt_since).is_not(None))
                .where(col(OutboxRow.state) == PENDING)
                .where(col(OutboxRow.next_attempt_at) > now)
            ).scalars()
        )
        query = (
            select(OutboxRow)
            .where(col(OutboxRow.state) == PENDING)
            .where(col(OutboxRow.next_attempt_at) <= now)
            .where(col(OutboxRow.target).not_in(list(busy)))
            .order_by(col(OutboxRow.id))
            .limit(1)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=OutboxRow)
        row = self.session.execute(query).scalars().first()
        if row is None or row.id is None:
            return None
        item = OutboxItem(
            id=row.id,
            intent=intent_from_payload(row.kind, row.payload),
            attempts=row.attempts + 1,
            created_at=utc(row.created_at),
            doubt_since=maybe_utc(row.doubt_since),
        )
        until = now + timedelta(seconds=lease_s)
        claimed = self.session.execute(
            update(OutboxRow)
            .execution_options(synchronize_session=False)
            .where(col(OutboxRow.id) == row.id)
            .where(col(OutboxRow.state) == PENDING)
            # Re-checked after a row lock wait: another claim moved next_attempt_at on.
            .where(col(OutboxRow.next_attempt_at) <= now)
            .values(
                attempts=col(OutboxRow.attempts) + 1,
                next_attempt_at=until,
                claimed_until=until,
                updated_at=now,
            )
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return item

    def _set(
        self, item_id: int, *, only_pending: bool = True, keep_claim: bool = False, **values: Any
    ) -> None:
        stmt = (
            update(OutboxRow)
            .execution_options(synchronize_session=False)
            .where(col(OutboxRow.id) == item_id)
        )
        if only_pending:
            stmt = stmt.where(col(OutboxRow.state) == PENDING)
        if not keep_claim:
            values["claimed_until"] = None
        self.session.execute(stmt.values(**values))

    def complete(self, item_id: int, *, result_id: int | None, now: datetime) -> None:
        """Mark a row sent, keeping what GitHub gave back (a comment or issue id)."""
        self._set(
            item_id,
            only_pending=False,
            state=SENT,
            result_id=result_id,
            updated_at=now,
            last_error=None,
            doubt_since=None,
        )

    def retry_later(self, item_id: int, *, error: str, at: datetime, uncount: bool = False) -> None:
        """Leave a row pending until `at`, noting why; uncount gives back the claim's attempt."""
        values: dict[str, Any] = {"next_attempt_at": at, "last_error": redact(error)[:ERROR_CAP]}
        if uncount:
            values["attempts"] = col(OutboxRow.attempts) - 1
        self._set(item_id, updated_at=at, **values)

    def dead(
        self, item_id: int, *, error: str, now: datetime, revive_after_s: Sequence[float] = ()
    ) -> None:
        """Give up on a row; it stays visible as dead and comes back on the given schedule."""
        row = self.session.get(OutboxRow, item_id)
        done = row.revivals if row is not None else 0
        wait = revive_after_s[done] if done < len(revive_after_s) else 0.0
        self._set(
            item_id,
            state=DEAD,
            last_error=redact(error)[:ERROR_CAP],
            updated_at=now,
            next_attempt_at=now + timedelta(seconds=wait),
        )

    def begin_write(self, item_id: int, *, now: datetime) -> None:
        """Note that a write is about to be sent: until its outcome is known, it is in doubt."""
        self._set(item_id, only_pending=False, doubt_since=now, keep_claim=True)

    def clear_doubt(self, item_id: int) -> None:
        """Note that the write was refused: nothing was written."""
        self._set(item_id, only_pending=False, doubt_since=None, keep_claim=True)

    def next_due_at(self) -> datetime | None:
        """Return when the next pending row becomes due, or None when none is pending."""
        # A row waiting behind a write in flight or in doubt for its target is due when that
        # write is: counting it would wake the sender for a row it cannot claim.
        holding = or_(
            col(OutboxRow.doubt_since).is_not(None), col(OutboxRow.claimed_until).is_not(None)
        )
        held = select(col(OutboxRow.target)).where(col(OutboxRow.state) == PENDING).where(holding)
        found = self.session.execute(
            select(func.min(col(OutboxRow.next_attempt_at)))
            .where(col(OutboxRow.state) == PENDING)
            .where(or_(holding, col(OutboxRow.target).not_in(held)))
        ).scalar()
        return maybe_utc(found)

    def comment_record(self, issue: int, marker: str) -> tuple[int, str] | None:
        """Return the (comment id, body) last written for this issue and marker."""
        row = self.session.get(CommentRecord, (issue, marker))
        return None if row is None else (row.comment_id, row.body)

    def save_comment_record(
        self, issue: int, marker: str, *, comment_id: int, body: str, now: datetime
    ) -> None:
        """Remember the comment carrying the marker and its body."""
        table = CommentRecord.__table__  # type: ignore[attr-defined]
        values = {"comment_id": comment_id, "body": body, "updated_at": now}
        stmt = upsert(self.session, table).values(issue=issue, marker=marker, **values)
        self.session.execute(
            stmt.on_conflict_do_update(index_elements=["issue", "marker"], set_=values)
        )

    def drop_comment_record(self, issue: int, marker: str) -> None:
        """Forget a comment that GitHub no longer has."""
        row = self.session.get(CommentRecord, (issue, marker))
        if row is not None:
            self.session.delete(row)

    def planned_verdicts(self, *, run_ids: Collection[int]) -> list[PlannedVerdict]:
        """The last verdict planned for each of the runs."""
        return outbox_verdicts.planned_verdicts(self.session, run_ids)

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
        """Enqueue a verdict's write and remember it as the run's last planned verdict."""
        self.enqueue([intent], now=now)
        outbox_verdicts.record_plan(
            self.session, intent, digest=digest, revision=revision, web=web,
            public_url=public_url, now=now,
        )  # fmt: skip

    def check_run_id(self, run_id: int, name: str) -> int | None:
        """The check run a run's verdict was written to."""
        return outbox_verdicts.check_run_id(self.session, run_id, name)

    def save_check_run(self, run_id: int, name: str, *, check_run_id: int, now: datetime) -> None:
        """Remember the check run of a run's verdict."""
        outbox_verdicts.save_check_run(
            self.session, run_id, name, check_run_id=check_run_id, now=now
        )

    def drop_check_run(self, run_id: int, name: str, *, now: datetime) -> None:
        """Forget a check run GitHub no longer has."""
        outbox_verdicts.save_check_run(self.session, run_id, name, check_run_id=None, now=now)

    def stats(self, *, dead_limit: int = 50) -> OutboxStats:
        """Count rows per state and in doubt, and list the newest dead rows."""
        counts = dict(
            self.session.execute(
                select(col(OutboxRow.state), func.count()).group_by(col(OutboxRow.state))
            ).all()
        )
        dead = self.session.execute(
            select(OutboxRow)
            .where(col(OutboxRow.state) == DEAD)
            .order_by(col(OutboxRow.id).desc())
            .limit(dead_limit)
        ).scalars()
        rows = tuple(
            {
                "id": r.id,
                "key": r.key,
                "kind": r.kind,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "updated_at": utc(r.updated_at).isoformat(),
                "revivals": r.revivals,
            }
            for r in dead
        )
        return OutboxStats(
            pending=counts.get(PENDING, 0),
            sent=counts.get(SENT, 0),
            dead=counts.get(DEAD, 0),
            superseded=counts.get(SUPERSEDED, 0),
            dead_rows=rows,
            in_doubt=self.in_doubt(),
        )

    def in_doubt(self) -> int:
        """Count pending rows whose last write's outcome is not known yet."""
        found = self.session.execute(
            select(func.count())
            .select_from(OutboxRow)
            .where(col(OutboxRow.doubt_since).is_not(None))
            .where(col(OutboxRow.state) == PENDING)
        ).scalar()
        return int(found or 0)


_PORT_CHECK: type[Outbox] = OutboxRepository  # mypy checks the class against the port
_PLANS_CHECK: type[VerdictPlans] = OutboxRepository
