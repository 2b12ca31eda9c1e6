"""Every SQLModel table of the service, in one module; Alembic migrations create them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

MESSAGE_CAP = 1000
TEXT_CAP = 2000


def _outbox_dt(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable)


def _dt(*, nullable: bool = False) -> datetime:
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), nullable=True)  # type: ignore[no-any-return]
    return Field(sa_type=DateTime(timezone=True), nullable=False)  # type: ignore[no-any-return]


class RunBase(SQLModel):
    suite: str
    environment: str = ""
    branch: str | None = None
    commit: str | None = None
    ci_url: str | None = None
    started_at: datetime = _dt()
    format: str
    source: str = "api"


class Run(RunBase, table=True):
    """One ingested report of one suite in one environment."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("suite", "environment", "report_digest", name="uq_runs_digest"),
        Index("ix_runs_suite_started", "suite", "environment", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ingested_at: datetime = _dt()
    counts: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    tests: int = 0
    failure_count: int = 0
    report_digest: str
    knowledge_digest: str = ""


class SuiteTest(SQLModel, table=True):
    """A test a suite has run at least once: the weekly pass rate's list of the suite's tests.

    Written only when a run brings a node id not seen before, so a run of known tests writes
    nothing here. Outcomes per run are not kept: the failures table holds every failed one.
    """

    __test__ = False
    __tablename__ = "suite_tests"
    __table_args__ = (
        UniqueConstraint("suite", "environment", "nodeid", name="uq_suite_tests_node"),
    )

    id: int | None = Field(default=None, primary_key=True)
    suite: str
    environment: str = ""
    nodeid: str = Field(sa_type=Text)


class FailureRow(SQLModel, table=True):
    """One failure (or flaky pass) of one run, with its match and classification."""

    __tablename__ = "failures"
    __table_args__ = (
        Index("ix_failures_suite_started", "suite", "environment", "started_at"),
        Index("ix_failures_issue_started", "known_issue", "started_at"),
        Index("ix_failures_run_nodeid", "run_id", "nodeid"),
        # The objective reads every infrastructure regression of a suite; without this index
        # a year of history is a full scan of the suite's failures (600 ms instead of 31 ms).
        Index("ix_failures_regressions", "suite", "category", "classification", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", ondelete="CASCADE")
    suite: str
    environment: str = ""
    started_at: datetime = _dt()
    nodeid: str = Field(sa_type=Text)
    phase: str
    outcome: str
    exception: str | None = None
    chain: str = Field(default="", sa_type=Text)  # exception types joined by newlines
    message: str = Field(default="", sa_type=Text)  # capped at MESSAGE_CAP
    text: str = Field(default="", sa_type=Text)  # excerpt capped at TEXT_CAP
    keywords: str = Field(default="", sa_type=Text)  # joined by newlines
    fingerprint: str = Field(index=True)
    signature_version: int
    known_issue: int | None = None
    rule: str | None = None
    classification: str
    category: str


class IssueTally(SQLModel, table=True):
    """How many failures of one run one rule matched to one known issue (flaky passes apart).

    Kept by database triggers on `failures` (migration 0006), so every writer (ingest,
    re-judging, a run's deletion) keeps it right. The known-issues list and an upload's
    write-back read these few rows per run instead of every failure in the history.
    """

    __tablename__ = "issue_tallies"
    __table_args__ = (
        UniqueConstraint("known_issue", "rule", "run_id", name="uq_issue_tallies"),
        Index("ix_issue_tallies_issue_started", "known_issue", "started_at"),
        Index("ix_issue_tallies_run", "run_id", "known_issue"),  # a run's issues (0010)
    )

    id: int | None = Field(default=None, primary_key=True)
    known_issue: int
    rule: str = ""  # "" for a manual link (no rule): a NULL would never conflict
    run_id: int
    started_at: datetime = _dt()
    failures: int = 0  # not flaky
    flaky: int = 0


class Cluster(SQLModel, table=True):
    """Unmatched failures sharing a fingerprint, with an example and a suggested rule."""

    __tablename__ = "clusters"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(unique=True)
    suite: str
    first_seen: datetime = _dt()
    last_seen: datetime = _dt()
    count: int = 0
    runs: int = 0
    exception: str | None = None
    example_nodeid: str = Field(sa_type=Text)
    example_message: str = Field(default="", sa_type=Text)
    suggested_rule: str = Field(default="", sa_type=Text)


class KnownIssueState(SQLModel, table=True):
    """A known issue's GitHub state, as last told by a webhook."""

    __tablename__ = "known_issue_states"

    number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    state: str  # open or closed
    title: str = ""
    state_reason: str | None = None
    updated_at: datetime = _dt()


class WrongMatch(SQLModel, table=True):
    """A person said a failure was linked to the wrong issue (feeds rule precision)."""

    __tablename__ = "wrong_matches"
    __table_args__ = (UniqueConstraint("run_id", "nodeid", name="uq_wrong_matches_failure"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", ondelete="CASCADE")
    nodeid: str = Field(sa_type=Text)
    issue: int | None = None
    rule: str | None = None
    reported_by: str
    at: datetime = _dt()


class ManualLink(SQLModel, table=True):
    """A person's link of a node id glob or a fingerprint to a known issue."""

    __tablename__ = "manual_links"
    __table_args__ = (UniqueConstraint("kind", "pattern", name="uq_manual_links_pattern"),)

    id: int | None = Field(default=None, primary_key=True)
    issue: int
    kind: str  # glob or fingerprint
    pattern: str = Field(sa_type=Text)
    created_by: str
    at: datetime = _dt()


class TaskCheckRow(SQLModel, table=True):
    """A task criterion's item on the tracking issue changed state: checked or not, by whom, when.

    Appended, never updated: the rows are the item's history, and a weekly report judges the
    state as of its week's end. `by` is None when GitHub did not say who (the first read of the
    issue, or an edit whose delivery was missed).
    """

    __tablename__ = "task_checks"
    __table_args__ = (Index("ix_task_checks_criterion_at", "criterion", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    criterion: str
    checked: bool
    by: str | None = None
    at: datetime = _dt()
    item: str = Field(default="", sa_type=Text)
    source: str  # webhook, issue read or before tracking


# Summaries kept by database triggers (migration 0010_day_summary), so ingest, re-judging and
# deletions all keep them right. The dashboard, the objective and the known-issues list read
# them instead of the failures: their cost follows what they show, not the stored history.


class RunTally(SQLModel, table=True):
    """How many failures of one run have one classification and category (flaky passes apart)."""

    __tablename__ = "run_tallies"
    __table_args__ = (
        UniqueConstraint("run_id", "classification", "category", name="uq_run_tallies"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int
    classification: str
    category: str
    failures: int = 0  # not flaky
    flaky: int = 0


class RunRegressionRow(SQLModel, table=True):
    """A run's first infrastructure regression (by node id): the one its streak reset names."""

    __tablename__ = "run_regressions"
    __table_args__ = (Index("ix_run_regressions_suite_started", "suite", "started_at"),)

    run_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    suite: str
    started_at: datetime = _dt()
    failure_id: int
    nodeid: str = Field(sa_type=Text)
    classification: str
    exception: str | None = None
    message: str = Field(default="", sa_type=Text)


class IssueTotal(SQLModel, table=True):
    """A known issue's occurrences, runs and last sighting over the whole history."""

    __tablename__ = "issue_totals"

    known_issue: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurrences: int = 0  # flaky passes included, as the known-issues list counts them
    runs: int = 0
    last_seen: datetime = _dt()


class RuleTotal(SQLModel, table=True):
    """How many failures one rule matched to one known issue over the whole history."""

    __tablename__ = "rule_totals"
    __table_args__ = (UniqueConstraint("known_issue", "rule", name="uq_rule_totals"),)

    id: int | None = Field(default=None, primary_key=True)
    known_issue: int
    rule: str = ""  # "" for a manual link, as in issue_tallies
    matches: int = 0


# --- the outbox of GitHub writes and the bot's comment records --------------------------------


class OutboxRow(SQLModel, table=True):
    """One planned GitHub write; `key` makes it unique, `state` says where it is."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_pending", "state", "id"),
        Index("ix_outbox_target", "target", "state"),
        Index("ix_outbox_claimed", "claimed_until"),
        Index("ix_outbox_doubt", "doubt_since"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=400)
    kind: str
    target: str
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str = "pending"
    attempts: int = 0
    created_at: datetime = _outbox_dt()
    next_attempt_at: datetime = _outbox_dt()
    claimed_until: datetime | None = _outbox_dt(nullable=True)
    updated_at: datetime = _outbox_dt()
    last_error: str | None = Field(default=None, sa_type=Text)
    result_id: int | None = Field(default=None, sa_type=BigInteger)
    # Set just before a write is sent, cleared when its outcome is known: while set, the row
    # is in doubt and its marker is looked for before anything is written again.
    doubt_since: datetime | None = _outbox_dt(nullable=True)
    # Automatic retries of a dead row so far; the next one is due at next_attempt_at.
    revivals: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class CommentRecord(SQLModel, table=True):
    """The bot's comment carrying a marker on an issue, and the body last written to it."""

    __tablename__ = "comment_records"

    issue: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    marker: str = Field(primary_key=True)
    comment_id: int = Field(sa_type=BigInteger)
    body: str = Field(sa_type=Text)
    updated_at: datetime = _outbox_dt()


# --- webhook deliveries -----------------------------------------------------------------------


class WebhookDelivery(SQLModel, table=True):
    """A delivery as received; `payload` is kept until it is processed."""

    __tablename__ = "webhook_deliveries"

    guid: str = Field(primary_key=True, max_length=100)
    event: str = Field(max_length=100)
    action: str = Field(default="", max_length=100)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    outcome: str = Field(default="", max_length=2000)
    payload: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    received_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    updated_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


# --- weekly report claims ---------------------------------------------------------------------


class WeeklyReportClaim(SQLModel, table=True):
    """A weekly report taken on by one process: at most one row per suite and ISO week."""

    __tablename__ = "weekly_report_claims"
    __table_args__ = (UniqueConstraint("suite", "iso_week", name="uq_weekly_report_claims"),)

    id: int | None = Field(default=None, primary_key=True)
    suite: str = Field(max_length=200)
    iso_week: str = Field(max_length=10)
    claimed_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


# --- re-judging: the record of changes and the judged knowledge -------------------------------


class JudgementChangeRow(SQLModel, table=True):
    """One change of a stored failure's match or classification, and why it moved."""

    __tablename__ = "judgement_changes"
    __table_args__ = (
        Index("ix_judgement_changes_run", "run_id"),
        Index("ix_judgement_changes_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    failure_id: int = Field(foreign_key="failures.id", ondelete="CASCADE")
    run_id: int = Field(foreign_key="runs.id", ondelete="CASCADE")
    suite: str
    nodeid: str = Field(sa_type=Text)
    before_issue: int | None = None
    before_rule: str | None = None
    before_classification: str
    before_category: str
    after_issue: int | None = None
    after_rule: str | None = None
    after_classification: str
    after_category: str
    reason: str  # knowledge, link, unlink, wrong or flaky
    detail: str = Field(default="", sa_type=Text)
    at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


class KnowledgeVersion(SQLModel, table=True):
    """Each knowledge base digest history was judged with; the newest row is the current one."""

    __tablename__ = "knowledge_versions"

    id: int | None = Field(default=None, primary_key=True)
    digest: str
    at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    changed: int = 0  # stored failures whose judgement moved when this digest was applied


# --- run identities ---------------------------------------------------------------------------


class RunIdentityRow(SQLModel, table=True):
    """A stored run's content key (tests and outcomes), session start and test durations."""

    __tablename__ = "run_identities"
    __table_args__ = (
        Index("ix_run_identities_key", "suite", "environment", "content_key", "started_at"),
    )

    run_id: int = Field(
        foreign_key="runs.id",
        ondelete="CASCADE",
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    suite: str
    environment: str = ""
    content_key: str
    started_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    durations: list[float] = Field(sa_column=Column(JSON, nullable=False))


def load_all_tables() -> MetaData:
    """Return the metadata holding every table of this module (what migrations must create)."""
    return SQLModel.metadata


# --- a run's verdict on its commit: the check run or status last planned (migration 0007)


class CommitVerdictRow(SQLModel, table=True):
    """One run's verdict on its commit under one name: what was last planned, where it went."""

    __tablename__ = "commit_verdicts"
    __table_args__ = (Index("ix_commit_verdicts_sha", "sha", "name"),)

    run_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str = Field(sa_column=Column(String(200), primary_key=True))
    sha: str
    revision: int = 0
    digest: str = ""
    web: str | None = None
    public_url: str | None = None
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    check_run_id: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
