"""Ports: the interfaces services need; store/ and github/ implement them, tests fake them."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self, runtime_checkable

from bot.core.comment_policy import ClusterCandidate
from bot.core.errors import TriageError
from bot.core.intents import Intent
from bot.core.model import Category, Failure, Match, TestResult
from bot.core.render_comments import IssueActivity

# Each section is owned by one area; add Protocols inside your own section only.

# --- runs, history and read models (store) -------------------------------------------------


class RuleView(Protocol):
    @property
    def id(self) -> str: ...


class KnownIssueView(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def rules(self) -> Sequence[RuleView]: ...

    @property
    def title(self) -> str: ...

    @property
    def category(self) -> Category: ...


class Knowledge(Protocol):
    """What ingest needs of the knowledge base (bot.core.knowledge.KnowledgeBase fits)."""

    @property
    def digest(self) -> str: ...

    @property
    def issues(self) -> Mapping[int, KnownIssueView]: ...

    def match_many(self, failures: Sequence[Failure]) -> Sequence[Match | None]: ...

    def category(self, failure: Failure, match: Match | None) -> Category: ...


@dataclass(frozen=True, slots=True)
class NewRun:
    suite: str
    environment: str
    branch: str | None
    commit: str | None
    ci_url: str | None
    started_at: datetime
    ingested_at: datetime
    format: str
    counts: dict[str, int]
    tests: int
    failure_count: int
    report_digest: str
    knowledge_digest: str
    source: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    run: NewRun


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """One stored failure row (or flaky pass), with enough text to replay matching."""

    run_id: int
    suite: str
    environment: str
    started_at: datetime
    nodeid: str
    phase: str
    outcome: str
    exception: str | None
    chain: tuple[str, ...]
    message: str
    text: str
    keywords: tuple[str, ...]
    fingerprint: str
    signature_version: int
    known_issue: int | None
    rule: str | None
    classification: str
    category: str


@dataclass(frozen=True, slots=True)
class TestState:
    """A test's recent results in one environment, read from runs and failures.

    history is one letter per run of the suite, oldest first: P passed (or did not fail),
    F failed, K passed on rerun.
    """

    __test__ = False

    nodeid: str
    last_outcome: str
    last_run_id: int
    last_run_at: datetime
    last_passed_at: datetime | None
    last_failed_at: datetime | None
    history: str


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    """Unmatched failures sharing a fingerprint; when recording, count/runs are this run's."""

    fingerprint: str
    suite: str
    first_seen: datetime
    last_seen: datetime
    count: int
    runs: int
    exception: str | None
    example_nodeid: str
    example_message: str
    suggested_rule: str


@dataclass(frozen=True, slots=True)
class IssueState:
    number: int
    state: str  # open or closed
    title: str
    state_reason: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ManualLinkRecord:
    id: int
    issue: int
    kind: str  # glob or fingerprint
    pattern: str
    created_by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class IssueStats:
    issue: int
    occurrences: int
    runs: int
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class RuleStats:
    rule: str
    issue: int
    matches: int
    wrong: int


class RunRepository(Protocol):
    def find(self, *, suite: str, environment: str, digest: str) -> RunRecord | None: ...

    def add(self, *, run: NewRun) -> int | None:
        """Insert a run; return None when the same report of the suite is already stored."""
        ...

    def get(self, *, run_id: int) -> RunRecord | None: ...

    def previous(self, *, suite: str, environment: str, before: datetime, limit: int) -> list[int]:
        """Return ids of the suite's runs started before `before`, newest first."""
        ...

    def page(
        self, *, suite: str | None, offset: int, limit: int
    ) -> tuple[list[RunRecord], int]: ...


class FailureRepository(Protocol):
    def add_many(self, *, rows: Sequence[FailureRecord]) -> None: ...

    def outcomes(
        self, *, run_ids: Sequence[int], nodeids: Collection[str]
    ) -> dict[int, dict[str, str]]:
        """Map run id -> node id -> stored outcome, for the given runs and tests."""
        ...

    def for_run(self, *, run_id: int) -> list[FailureRecord]: ...

    def replay(self, *, since: datetime | None) -> Iterator[FailureRecord]:
        """Yield stored failures (not flaky passes), oldest first, for a backtest."""
        ...

    def count_matching(self, *, glob: str) -> int:
        """Count stored failures (not flaky passes) whose node id matches `glob`."""
        ...


class TestStateRepository(Protocol):
    """The tests each suite has run (read by the weekly pass rate)."""

    def record_run(
        self,
        *,
        suite: str,
        environment: str,
        tests: Sequence[TestResult],
        run_id: int,
        at: datetime,
    ) -> None:
        """Remember the run's tests the suite had not run before."""
        ...


class ClusterRepository(Protocol):
    def record(self, *, hits: Sequence[ClusterRecord]) -> None:
        """Add one run's unmatched failures: counts add up, first/last seen widen."""
        ...

    def top(self, *, offset: int, limit: int) -> tuple[list[ClusterRecord], int]: ...


class IssueStateRepository(Protocol):
    def all(self) -> list[IssueState]: ...

    def set(self, *, state: IssueState) -> None: ...


class LinkRepository(Protocol):
    def links(self) -> list[ManualLinkRecord]: ...

    def add_link(
        self, *, issue: int, kind: str, pattern: str, created_by: str, at: datetime
    ) -> bool:
        """Link a pattern to an issue (re-pointing an existing link); True when it is new."""
        ...

    def remove_link(self, *, kind: str, pattern: str) -> bool: ...

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
        ...


class ReadModels(Protocol):
    def issue_stats(self) -> list[IssueStats]: ...

    def rule_stats(self) -> list[RuleStats]: ...


@dataclass(frozen=True, slots=True)
class RunIdentity:
    """What identifies a stored run whatever its format: content key, start, test durations."""

    run_id: int
    content_key: str
    started_at: datetime
    durations: tuple[float, ...]


class RunIdentityRepository(Protocol):
    def candidates(
        self, *, suite: str, environment: str, key: str, start: datetime, end: datetime
    ) -> list[RunIdentity]:
        """Stored runs of the suite with this content key that started in [start, end]."""
        ...

    def add(self, *, suite: str, environment: str, identity: RunIdentity) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredFailure:
    """A stored failure row with its id, as re-judging reads it."""

    id: int
    record: FailureRecord


@dataclass(frozen=True, slots=True)
class JudgementChange:
    """One stored failure whose judgement moved: what it was, what it is, why, when."""

    failure_id: int
    run_id: int
    suite: str
    nodeid: str
    before_issue: int | None
    before_rule: str | None
    before_classification: str
    before_category: str
    after_issue: int | None
    after_rule: str | None
    after_classification: str
    after_category: str
    reason: str  # knowledge, link, unlink, wrong or flaky
    detail: str
    at: datetime


class JudgementRepository(Protocol):
    """Stored failures to re-judge, their updates, and the record of every change."""

    def scan(
        self,
        *,
        fingerprint: str | None = None,
        rule: str | None = None,
        after_id: int = 0,
        limit: int = 2000,
    ) -> list[StoredFailure]:
        """Failures (flaky passes excluded) by id, optionally of one fingerprint or rule."""
        ...

    def of_tests(
        self, *, suite: str, environment: str, nodeids: Collection[str], run_ids: Sequence[int]
    ) -> list[StoredFailure]:
        """The given tests' failures (flaky passes excluded) in the given runs."""
        ...

    def wrong(self) -> dict[tuple[int, str], int | None]:
        """(run id, node id) -> the issue a person said was wrong for that failure."""
        ...

    def apply(self, *, changes: Sequence[JudgementChange]) -> None:
        """Update the failures to their new judgement and record each change."""
        ...

    def recount_clusters(self, *, fingerprints: Collection[str]) -> None:
        """Recount these clusters from the unmatched failures now stored; drop empty ones."""
        ...

    def changes(
        self, *, run_id: int | None, offset: int, limit: int
    ) -> tuple[list[JudgementChange], int]:
        """Recorded changes, newest first, and their total."""
        ...

    def knowledge_digest(self) -> str | None:
        """The digest of the knowledge base history was last judged with."""
        ...

    def set_knowledge_digest(self, *, digest: str, at: datetime, changed: int) -> None: ...


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving without commit() rolls back."""

    runs: RunRepository
    failures: FailureRepository
    tests: TestStateRepository
    clusters: ClusterRepository
    issues: IssueStateRepository
    links: LinkRepository
    reads: ReadModels
    outbox: Outbox
    writeback: WritebackHistory
    judgements: JudgementRepository
    identities: RunIdentityRepository

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


# --- GitHub (gateway) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    id: int
    name: str
    size_in_bytes: int
    expired: bool


@dataclass(frozen=True, slots=True)
class CommentRef:
    id: int
    body: str
    user_login: str
    html_url: str


class GitHubGateway(Protocol):
    """Everything the services ask of GitHub, for the configured repository."""

    def list_run_artifacts(self, run_id: int) -> list[ArtifactInfo]: ...

    def download_artifact(self, artifact_id: int, *, max_bytes: int) -> bytes:
        """Return the artifact's zip bytes; raise TriageError("too_large") past max_bytes."""
        ...

    def permission(self, username: str) -> str:
        """Return the user's role name: admin, maintain, write, triage, read or none."""
        ...

    def create_comment(self, issue: int, body: str) -> CommentRef: ...

    def edit_comment(self, comment_id: int, body: str) -> None: ...

    def list_comments(self, issue: int, *, since: datetime | None = None) -> list[CommentRef]: ...

    def set_issue_state(self, issue: int, state: str, reason: str | None) -> None: ...

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> int: ...

    def bot_login(self) -> str:
        """Return the login the gateway writes as (its comments are ignored as commands)."""
        ...

    def find_issue(self, text: str, *, since: datetime | None = None) -> int | None:
        """Return the number of an issue opened by the bot whose body contains `text`."""
        ...


@runtime_checkable
class IssueStateReader(Protocol):
    """Reads known issues' state from GitHub (the real gateway has it; dry runs do not)."""

    def issue_states(self, numbers: Sequence[int]) -> list[IssueState]:
        """Return each issue's state, title and when its state last changed."""
        ...


class GitHubError(TriageError):
    """A GitHub call failed; says whether and when to try again, never holds a secret."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        rate_limit_reset: float | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(reason, message)
        self.status = status
        self.retry_after = retry_after  # seconds, from Retry-After
        self.rate_limit_reset = rate_limit_reset  # epoch seconds, from x-ratelimit-reset
        self.transient = transient  # worth retrying later: 5xx, timeout, rate limit


# --- outbox ---------------------------------------------------------------------------------


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


class WritebackHistory(Protocol):
    """What the comment policy needs to know of known issues, read from stored runs."""

    def issue_activity(
        self, *, issues: Collection[int], now: datetime, run_id: int | None = None, latest: int = 10
    ) -> list[IssueActivity]:
        """Summarise each issue's occurrences; previous_seen excludes run `run_id`."""
        ...

    def open_issue_activity(self, *, now: datetime, latest: int = 5) -> list[IssueActivity]:
        """Summarise every known issue with occurrences that is not closed."""
        ...

    def cluster_candidates(self, *, min_runs: int) -> list[ClusterCandidate]:
        """List unmatched clusters seen in min_runs runs or more, never filed as an issue."""
        ...


# --- objective, criteria and reports --------------------------------------------------------

# Imported here, not at the top, so this section stays self-contained.
from datetime import date, tzinfo  # noqa: E402

from bot.core.criteria import WeekFacts  # noqa: E402
from bot.core.objective import ObjectiveInputs  # noqa: E402
from bot.core.weekly import ClusterLine, FlakyLine, IsoWeek  # noqa: E402


@dataclass(frozen=True, slots=True)
class RunLine:
    """One recent run and its failures per classification."""

    id: int
    suite: str
    started_at: datetime
    tests: int
    counts: dict[str, int]
    classifications: dict[str, int]


class ReportRepository(Protocol):
    """Read models of the objective, the weekly report and the dashboard, plus week claims."""

    def first_run_at(self, *, suite: str) -> datetime | None: ...

    def suites(self) -> list[str]: ...

    def objective_inputs(
        self,
        *,
        suite: str,
        at: datetime,
        days: int,
        min_coverage: float,
        tz: tzinfo,
        latest: int | None = None,
    ) -> ObjectiveInputs | None:
        """Gather the objective's inputs; None when the suite has never reported.

        With `latest`, only the regressions of the latest `latest` + 1 regressing run times:
        enough for the streak, the window and the newest `latest` resets.
        """
        ...

    def week_facts(self, *, suite: str, week: IsoWeek, tz: tzinfo, now: datetime) -> WeekFacts:
        """Gather one ISO week of one suite (objective left None for the caller)."""
        ...

    def daily_pass_rate(
        self, *, suite: str, start: datetime, end: datetime, tz: tzinfo
    ) -> list[tuple[date, float | None]]: ...

    def new_clusters(
        self, *, suite: str, start: datetime, end: datetime, limit: int
    ) -> list[ClusterLine]: ...

    def top_clusters(self, *, suite: str, limit: int) -> list[ClusterLine]: ...

    def flaky_tests(
        self, *, suite: str, start: datetime, end: datetime, limit: int
    ) -> list[FlakyLine]: ...

    def known_issue_daily(
        self, *, suite: str, start: datetime, tz: tzinfo
    ) -> dict[int, dict[date, int]]: ...

    def recent_runs(self, *, suite: str, until: datetime, limit: int) -> list[RunLine]: ...

    def issue_titles(self) -> dict[int, str]: ...

    def claim_week(self, *, suite: str, week: str, now: datetime) -> bool:
        """Claim the week's report for this process; False when someone already did."""
        ...

    def claimed_weeks(self, *, suite: str) -> set[str]: ...


class ReportsUnitOfWork(Protocol):
    """One transaction over the report read models and the outbox."""

    reports: ReportRepository
    outbox: Outbox
    tasks: TaskCheckRepository

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None:
        """Roll back whatever was not committed."""
        ...

    def commit(self) -> None: ...


class ReportsUowFactory(Protocol):
    """Make a report unit of work; write=True for one that claims weeks and enqueues."""

    def __call__(self, *, write: bool = False) -> ReportsUnitOfWork: ...


# --- telemetry: durations the use cases report (Prometheus histograms in the web app) -------


class Latency(Protocol):
    """Records how long one piece of a use case's work took, and how it ended."""

    def observe(self, outcome: str, seconds: float) -> None:
        """Record one duration under its outcome ("sent", "duplicate", ...)."""
        ...


@dataclass(frozen=True, slots=True)
class Latencies:
    """Where each timed use case reports; None: not recorded (the CLI has no /metrics)."""

    ingest: Latency | None = None
    webhook_delivery: Latency | None = None
    outbox_send: Latency | None = None


# --- task criteria: checks on the tracking issue's task list ---------------------------------

from bot.core.tasklist import TaskCheck  # noqa: E402


class TaskCheckRepository(Protocol):
    """The task criteria's checked states, appended in the unit of work's transaction."""

    def add(self, *, checks: Sequence[TaskCheck]) -> None: ...

    def history(self) -> list[TaskCheck]:
        """Every stored check, oldest first."""
        ...

    def latest(self) -> dict[str, bool]:
        """Each criterion's latest state (criteria never seen are absent)."""
        ...


class TaskUnitOfWork(Protocol):
    """A transaction holding the task checks."""

    @property
    def tasks(self) -> TaskCheckRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class IssueBody:
    """An issue's Markdown body and when it last changed."""

    number: int
    body: str
    updated_at: datetime


@runtime_checkable
class IssueBodyReader(Protocol):
    """Reads one issue's body from GitHub (the real gateway has it; dry runs do not)."""

    def issue_body(self, number: int) -> IssueBody | None:
        """Return the issue's body; None when GitHub has no such issue."""


# --- commit verdicts (check runs and commit statuses) -----------------------------------------

from bot.core.intents import SetCommitVerdict  # noqa: E402


@dataclass(frozen=True, slots=True)
class CommitVerdictWrite:
    """What a check run or commit status shows of a run's verdict."""

    sha: str
    name: str  # check run name or status context
    external_id: str  # the run, so a check run can be found again
    conclusion: str  # success, neutral or failure
    title: str
    summary: str
    details_url: str | None


@runtime_checkable
class CommitVerdictGateway(Protocol):
    """GitHub's check runs (a GitHub App) and commit statuses (a token), on one repository."""

    def find_check_run(self, sha: str, name: str, external_id: str) -> int | None:
        """Return the id of the check run on the commit with this name and external id."""
        ...

    def create_check_run(self, write: CommitVerdictWrite) -> int:
        """Create a completed check run; return its id."""
        ...

    def update_check_run(self, check_run_id: int, write: CommitVerdictWrite) -> None:
        """Bring a check run to the write's conclusion and output (idempotent)."""
        ...

    def set_commit_status(self, write: CommitVerdictWrite, *, state: str) -> None:
        """Post a status; the newest one of a context is what GitHub shows."""
        ...


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
