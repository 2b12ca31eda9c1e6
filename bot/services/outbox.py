"""The outbox sender: performs planned GitHub writes serially, paced, retried, never doubled."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.core.errors import TriageError
from bot.core.intents import (
    CreateIssue,
    PostComment,
    SetIssueState,
    UpsertComment,
    marker,
    with_marker,
)
from bot.ports import GitHubError, GitHubGateway, OutboxItem, OutboxQueue

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], object]  # time.sleep, or Event.wait so a shutdown cuts a pause short
# Comments a lost POST may have created are looked for from a little before the row was planned.
LOOKBACK = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SenderConfig:
    """Pacing and retry knobs, from settings."""

    min_interval_s: float = 1.0
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 3600.0
    rate_limit_default_s: float = 60.0
    lease_s: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SenderConfig:
        """Take the outbox settings."""
        return cls(
            min_interval_s=settings.outbox_min_interval_s,
            max_attempts=settings.outbox_max_attempts,
            backoff_base_s=settings.outbox_backoff_base_s,
            lease_s=settings.outbox_lease_s,
        )


@dataclass
class DrainResult:
    """What one drain did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


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
    ) -> None:
        self.queue = queue
        self.gateway = gateway
        self.config = config or SenderConfig()
        self.clock = clock
        self.sleep: Sleep = sleep or _real_sleep
        # Called right after GitHub accepted a write and before it is recorded: a crash hook.
        self.after_write = after_write
        self._last_write: datetime | None = None
        self._not_before: datetime | None = None

    def drain(self, *, wait: bool = True, limit: int | None = None) -> DrainResult:
        """Send due rows until none is left; with wait, also wait out backoffs of pending rows."""
        result = DrainResult()
        while limit is None or result.sent + result.retried + result.dead < limit:
            outcome = self.send_one()
            if outcome is None:
                due = self.queue.next_due_at() if wait else None
                if due is None:
                    break
                self.sleep(max((due - self.clock()).total_seconds(), 0.0) + 0.001)
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result

    def send_one(self) -> str | None:
        """Send the next due row; return "sent", "retried", "dead", or None when none is due."""
        # Wait before claiming, so a long rate-limit pause never outlives the claim's lease.
        self._pace()
        item = self.queue.claim_next(now=self.clock(), lease_s=self.config.lease_s)
        if item is None:
            return None
        try:
            result_id = self._perform(item)
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
            self.queue.dead(item.id, error=error, now=now)
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

    def _find_own(self, issue: int, tag: str, since: datetime | None) -> tuple[int, str] | None:
        """Find the bot's comment carrying a marker on an issue."""
        login = self.gateway.bot_login()
        for comment in self.gateway.list_comments(issue, since=since):
            if comment.user_login == login and tag in comment.body:
                return comment.id, comment.body
        return None

    def _post(self, item: OutboxItem, intent: PostComment) -> int:
        body = with_marker(intent.body, intent.key)
        if item.attempts > 1:  # an earlier attempt may have posted before its answer was lost
            found = self._find_own(intent.issue, marker(intent.key), item.created_at - LOOKBACK)
            if found is not None:
                log.info("outbox row %s: adopted comment %s", item.id, found[0])
                return found[0]
        self._pace()
        ref = self.gateway.create_comment(intent.issue, body)
        self._wrote(item)
        return ref.id

    def _upsert(self, item: OutboxItem, intent: UpsertComment) -> int:
        body = with_marker(intent.body, intent.marker)
        known = self.queue.comment_record(intent.issue, intent.marker)
        if known is None:
            known = self._find_own(intent.issue, marker(intent.marker), None)
        if known is not None:
            comment_id, current = known
            if current == body:
                self._remember(intent, comment_id, body)
                return comment_id
            self._pace()
            try:
                self.gateway.edit_comment(comment_id, body)
            except GitHubError as exc:
                if exc.reason != "github_not_found":
                    raise
                # Deleted on GitHub: forget it and post it again.
                self.queue.drop_comment_record(intent.issue, intent.marker)
            else:
                self._wrote(item)
                self._remember(intent, comment_id, body)
                return comment_id
        self._pace()
        ref = self.gateway.create_comment(intent.issue, body)
        self._wrote(item)
        self._remember(intent, ref.id, body)
        return ref.id

    def _remember(self, intent: UpsertComment, comment_id: int, body: str) -> None:
        self.queue.save_comment_record(
            intent.issue, intent.marker, comment_id=comment_id, body=body, now=self.clock()
        )

    def _create_issue(self, item: OutboxItem, intent: CreateIssue) -> int:
        body = with_marker(intent.body, intent.key)
        if item.attempts > 1:
            found = self.gateway.find_issue(marker(intent.key), since=item.created_at - LOOKBACK)
            if found is not None:
                return found
        self._pace()
        number = self.gateway.create_issue(intent.title, body, intent.labels)
        self._wrote(item)
        return number


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
