"""The outbox sender: performs planned GitHub writes serially, paced, retried, never doubled."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.commit_verdict import STATUS_STATES, description
from bot.core.errors import TriageError
from bot.core.intents import (
    CreateIssue,
    PostComment,
    SetCommitVerdict,
    SetIssueState,
    UpsertComment,
    marker,
    with_marker,
)
from bot.ports.github import CommitVerdictGateway, CommitVerdictWrite, GitHubError, GitHubGateway
from bot.ports.outbox import CheckRunRecords, OutboxItem, OutboxQueue
from bot.ports.telemetry import Latency
from bot.services.outbox_config import DrainResult, SenderConfig

__all__ = ["DrainResult", "OutboxSender", "SenderConfig", "run_sender_forever"]
log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], object]  # time.sleep, or Event.wait so a shutdown cuts a pause short
# A write in doubt is looked for from a little before it was sent (clocks differ).
LOOKBACK = timedelta(minutes=10)
# Answers after which GitHub may or may not have performed the write.
UNKNOWN_OUTCOME = frozenset({"github_timeout", "github_connection_lost", "github_unavailable"})
DOUBT_FIRST_CHECK_S = 5.0
DOUBT_CHECK_MAX_S = 60.0


class _InDoubtError(Exception):
    """The write's marker is not found yet: look again at `at` (the row stays pending)."""

    def __init__(self, at: datetime, note: str, *, counted: bool) -> None:
        super().__init__(note)
        self.at = at
        self.note = note
        self.counted = counted  # a write was sent this time, not only a look


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxSender:
    """Claims outbox rows one at a time and performs them through the gateway."""

    def __init__(
        self,
        queue: OutboxQueue,
        gateway: GitHubGateway,
        *,
        config: SenderConfig | None = None,
        clock: Clock = _utcnow,
        sleep: Sleep | None = None,
        after_write: Callable[[OutboxItem], None] | None = None,
        latency: Latency | None = None,
    ) -> None:
        self.queue = queue
        self.gateway = gateway
        self.config = config or SenderConfig()
        self.clock = clock
        self.sleep: Sleep = sleep or _real_sleep
        # Called right after GitHub accepted a write and before it is recorded: a crash hook.
        self.after_write = after_write
        self.latency = latency  # how long each claimed row took, by outcome
        self._last_write: datetime | None = None
        self._not_before: datetime | None = None
        # Where check run ids are kept; without it each check run is looked up on GitHub.
        self.check_runs = queue if isinstance(queue, CheckRunRecords) else None

    def drain(self, *, wait: bool = True, limit: int | None = None) -> DrainResult:
        """Send due rows until none is left; with wait, also wait out backoffs of pending rows."""
        result = DrainResult()
        result.revived = self.revive()
        while limit is None or result.sent + result.retried + result.dead + result.in_doubt < limit:
            outcome = self.send_one()
            if outcome is None:
                due = self.queue.next_due_at() if wait else None
                if due is None:
                    break
                self.sleep(max((due - self.clock()).total_seconds(), 0.0) + 0.001)
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result

    def revive(self) -> int:
        """Put back the dead rows whose automatic retry is due; return how many."""
        if not self.config.dead_retry_s:
            return 0
        revived = self.queue.revive_dead(
            now=self.clock(), max_revivals=len(self.config.dead_retry_s)
        )
        if revived:
            log.info("outbox: %s dead rows retried automatically", revived)
        return revived

    def send_one(self) -> str | None:
        """Send the next due row; return "sent", "retried", "dead", "in_doubt" or None."""
        # Wait before claiming, so a long rate-limit pause never outlives the claim's lease.
        self._pace()
        item = self.queue.claim_next(now=self.clock(), lease_s=self.config.lease_s)
        if item is None:
            return None
        started = time.perf_counter()  # from the claim: the pause before it is pacing
        outcome = self._send(item)
        if self.latency is not None:
            self.latency.observe(outcome, time.perf_counter() - started)
        return outcome

    def _send(self, item: OutboxItem) -> str:
        try:
            result_id = self._perform(item)
        except _InDoubtError as doubt:
            log.info("outbox row %s in doubt, looked for again at %s", item.id, doubt.at)
            self.queue.retry_later(
                item.id, error=doubt.note, at=doubt.at, uncount=not doubt.counted
            )
            return "in_doubt"
        except GitHubError as exc:
            return self._failed(item, exc, transient=exc.transient or exc.reason == "github_auth")
        except TriageError as exc:
            return self._failed(item, exc, transient=False)
        self.queue.complete(item.id, result_id=result_id, now=self.clock())
        return "sent"

    def _failed(self, item: OutboxItem, exc: TriageError, *, transient: bool) -> str:
        error = f"{exc.reason}: {exc.message}"
        now = self.clock()
        if not transient or item.attempts >= self.config.max_attempts:
            log.warning("outbox row %s dead after %s attempts: %s", item.id, item.attempts, error)
            self.queue.dead(item.id, error=error, now=now, revive_after_s=self.config.dead_retry_s)
            return "dead"
        delay = self._delay(item, exc)
        if isinstance(exc, GitHubError) and exc.reason == "github_rate_limited":
            self._not_before = now + timedelta(seconds=delay)
        log.info("outbox row %s retried in %.0f s: %s", item.id, delay, error)
        self.queue.retry_later(item.id, error=error, at=now + timedelta(seconds=delay))
        return "retried"

    def _delay(self, item: OutboxItem, exc: TriageError) -> float:
        """Choose the wait before the next attempt: GitHub's hint, else exponential backoff."""
        growth: float = 2.0 ** max(item.attempts - 1, 0)
        backoff = min(self.config.backoff_base_s * growth, self.config.backoff_max_s)
        if not isinstance(exc, GitHubError) or exc.reason != "github_rate_limited":
            return backoff
        if exc.retry_after is not None:
            return max(exc.retry_after, 0.0)
        if exc.rate_limit_reset is not None:
            return max(exc.rate_limit_reset - self.clock().timestamp(), 0.0) + 1.0
        return max(self.config.rate_limit_default_s, backoff)

    def _pace(self) -> None:
        """Wait until a write is allowed: the minimum interval and any rate-limit pause."""
        now = self.clock()
        ready = now
        if self._last_write is not None:
            ready = self._last_write + timedelta(seconds=self.config.min_interval_s)
        if self._not_before is not None and self._not_before > ready:
            ready = self._not_before
        if ready > now:
            self.sleep((ready - now).total_seconds())

    def _wrote(self, item: OutboxItem) -> None:
        self._last_write = self.clock()
        if self.after_write is not None:
            self.after_write(item)

    def _perform(self, item: OutboxItem) -> int | None:
        intent = item.intent
        match intent:
            case PostComment():
                return self._post(item, intent)
            case UpsertComment():
                return self._upsert(item, intent)
            case SetIssueState():
                self._pace()
                self.gateway.set_issue_state(intent.issue, intent.state, intent.reason)
                self._wrote(item)
                return intent.issue
            case CreateIssue():
                return self._create_issue(item, intent)
            case SetCommitVerdict():
                return self._commit_verdict(item, intent)

    def _find_own(self, issue: int, tag: str, since: datetime | None) -> tuple[int, str] | None:
        """Find the bot's comment carrying a marker on an issue."""
        login = self.gateway.bot_login()
        for comment in self.gateway.list_comments(issue, since=since):
            if comment.user_login == login and tag in comment.body:
                return comment.id, comment.body
        return None

    def _since(self, item: OutboxItem) -> datetime:
        return (item.doubt_since or item.created_at) - LOOKBACK

    def _may_write_again(self, item: OutboxItem) -> None:
        """Raise _InDoubtError while an earlier write of the row may still appear on GitHub."""
        if item.doubt_since is None:
            return  # the last attempt was refused outright, or crashed before sending
        now = self.clock()
        age = (now - item.doubt_since).total_seconds()
        if age < self.config.doubt_window_s:
            wait = min(max(age, DOUBT_FIRST_CHECK_S), DOUBT_CHECK_MAX_S)
            note = f"outbox_in_doubt: no marker yet, {age:.0f} s after the write was sent"
            raise _InDoubtError(now + timedelta(seconds=wait), note, counted=False)
        if item.attempts > self.config.max_attempts:
            raise TriageError(
                "outbox_in_doubt",
                f"no marker within {self.config.doubt_window_s:.0f} s after the last of "
                f"{item.attempts - 1} attempts",
            )
        log.warning("outbox row %s: no marker within the doubt window; writing again", item.id)

    def _write(self, item: OutboxItem, send: Callable[[], int]) -> int:
        """Send a write that creates something: in doubt from just before it leaves."""
        self._pace()
        self.queue.begin_write(item.id, now=self.clock())
        try:
            created = send()
        except GitHubError as exc:
            if exc.reason in UNKNOWN_OUTCOME:
                at = self.clock() + timedelta(seconds=DOUBT_FIRST_CHECK_S)
                raise _InDoubtError(at, f"{exc.reason}: {exc.message}", counted=True) from None
            self.queue.clear_doubt(item.id)  # refused: nothing was written
            raise
        self._wrote(item)
        return created

    def _post(self, item: OutboxItem, intent: PostComment) -> int:
        body = with_marker(intent.body, intent.key)
        if item.doubt_since is not None or item.attempts > 1:
            found = self._find_own(intent.issue, marker(intent.key), self._since(item))
            if found is not None:
                log.info("outbox row %s: adopted comment %s", item.id, found[0])
                return found[0]
            self._may_write_again(item)
        return self._write(item, lambda: self.gateway.create_comment(intent.issue, body).id)

    def _upsert(self, item: OutboxItem, intent: UpsertComment) -> int:
        body = with_marker(intent.body, intent.marker)
        tag = marker(intent.marker)
        known = self.queue.comment_record(intent.issue, intent.marker)
        known = known or self._find_own(intent.issue, tag, None)
        if known is None:
            self._may_write_again(item)
        elif self._edit(item, intent, *known, body):
            return known[0]
        else:
            # 404 on the edit: look for the marked comment before posting anew.
            found = self._find_own(intent.issue, tag, None)
            if (
                found is not None
                and found[0] != known[0]
                and self._edit(item, intent, *found, body)
            ):
                return found[0]
            if found is not None:
                raise GitHubError(
                    "github_not_found",
                    f"GitHub answered 404 to an edit of comment {found[0]} but lists it",
                    status=404,
                    transient=True,
                )
            self.queue.drop_comment_record(intent.issue, intent.marker)
        comment_id = self._write(item, lambda: self.gateway.create_comment(intent.issue, body).id)
        self._remember(intent, comment_id, body)
        return comment_id

    def _edit(
        self, item: OutboxItem, intent: UpsertComment, comment_id: int, current: str, body: str
    ) -> bool:
        """Bring the comment to `body`; False when GitHub answers 404 (an edit is idempotent)."""
        if current != body:
            self._pace()
            try:
                self.gateway.edit_comment(comment_id, body)
            except GitHubError as exc:
                if exc.reason != "github_not_found":
                    raise
                return False
            self._wrote(item)
        self._remember(intent, comment_id, body)
        return True

    def _remember(self, intent: UpsertComment, comment_id: int, body: str) -> None:
        self.queue.save_comment_record(
            intent.issue, intent.marker, comment_id=comment_id, body=body, now=self.clock()
        )

    def _create_issue(self, item: OutboxItem, intent: CreateIssue) -> int:
        body = with_marker(intent.body, intent.key)
        if item.doubt_since is not None or item.attempts > 1:
            found = self.gateway.find_issue(marker(intent.key), since=self._since(item))
            if found is not None:
                return found
            self._may_write_again(item)
        return self._write(
            item, lambda: self.gateway.create_issue(intent.title, body, intent.labels)
        )

    def _verdicts(self) -> CommitVerdictGateway:
        if not isinstance(self.gateway, CommitVerdictGateway):
            raise TriageError("github_unsupported", "the gateway cannot write commit verdicts")
        return self.gateway

    def _commit_verdict(self, item: OutboxItem, intent: SetCommitVerdict) -> int | None:
        """Show the verdict: a status is replaced by context, a check run is edited in place."""
        gateway = self._verdicts()
        write = CommitVerdictWrite(
            sha=intent.sha, name=intent.name, external_id=f"run:{intent.run_id}",
            conclusion=intent.conclusion, title=intent.title, summary=intent.summary,
            details_url=intent.details_url,
        )  # fmt: skip
        if intent.mode == "status":
            self._pace()
            short = replace(write, title=description(intent.title))
            gateway.set_commit_status(short, state=STATUS_STATES[intent.conclusion])
            self._wrote(item)
            return None
        return self._check_run(item, intent, gateway, write)

    def _check_run(
        self,
        item: OutboxItem,
        intent: SetCommitVerdict,
        gateway: CommitVerdictGateway,
        write: CommitVerdictWrite,
    ) -> int:
        """Edit the run's check run; create it only when GitHub has none for the run."""
        records = self.check_runs
        known = records.check_run_id(intent.run_id, intent.name) if records else None
        if known is not None and self._edit_check_run(item, gateway, known, write):
            return known
        if known is not None and records is not None:
            records.drop_check_run(intent.run_id, intent.name, now=self.clock())
        # Always looked for: a create whose answer was lost, or a record lost with a crash.
        found = gateway.find_check_run(write.sha, write.name, write.external_id)
        if found is not None:
            if not self._edit_check_run(item, gateway, found, write):
                raise GitHubError(
                    "github_not_found",
                    f"GitHub lists check run {found} but answered 404 to its update",
                    status=404,
                    transient=True,
                )
        else:
            self._may_write_again(item)
            found = self._write(item, lambda: gateway.create_check_run(write))
        if records is not None:
            records.save_check_run(intent.run_id, intent.name, check_run_id=found, now=self.clock())
        return found

    def _edit_check_run(
        self,
        item: OutboxItem,
        gateway: CommitVerdictGateway,
        check_run_id: int,
        write: CommitVerdictWrite,
    ) -> bool:
        """Update the check run (idempotent); False when GitHub answers 404."""
        self._pace()
        try:
            gateway.update_check_run(check_run_id, write)
        except GitHubError as exc:
            if exc.reason != "github_not_found":
                raise
            return False
        self._wrote(item)
        return True


def _real_sleep(seconds: float) -> None:
    threading.Event().wait(seconds)


def run_sender_forever(stop: threading.Event, sender: OutboxSender, *, idle_s: float = 2.0) -> None:
    """Drain the outbox until `stop` is set; meant for a thread started in the app's lifespan.

    Build the sender with sleep=stop.wait so that a rate-limit pause ends at shutdown too.
    """
    while not stop.is_set():
        try:
            sender.drain(wait=False)
        except Exception:  # a database hiccup must not end the loop; rows stay pending
            log.exception("outbox sender failed; retrying in %.0f s", idle_s)
        stop.wait(idle_s)
