"""Store ports: the repositories, the unit of work over them, and the records they speak."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self

from bot.core.clusters import ClusterSummary
from bot.core.model import TestResult
from bot.core.render_comments import IssueActivity
from bot.ports.outbox import Outbox


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


class SuiteTestRepository(Protocol):
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
    def record(self, *, hits: Sequence[ClusterSummary]) -> None:
        """Add one run's unmatched failures: counts add up, first/last seen widen."""
        ...

    def top(self, *, offset: int, limit: int) -> tuple[list[ClusterSummary], int]: ...


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

    def cluster_candidates(self, *, min_runs: int) -> list[ClusterSummary]:
        """List unmatched clusters seen in min_runs runs or more, never filed as an issue."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving without commit() rolls back."""

    runs: RunRepository
    failures: FailureRepository
    tests: SuiteTestRepository
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
