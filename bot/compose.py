"""The composition root: the one place that builds engine, units of work, gateways and jobs.

The web app (bot.web.app) and every CLI command that touches the database or GitHub get their
parts from here, so a new adapter or setting is wired once. Importing this module loads the
server libraries (SQLAlchemy, PyGithub, APScheduler): CLI commands import it inside the command
function, so `triage-bot classify` and `--help` stay light.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot import configs
from bot.config import Settings, ensure_data_dir
from bot.core.comment_policy import PolicyConfig
from bot.core.criteria import Criterion, load_criteria, task_phrases
from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.ports.github import GitHubGateway, IssueBodyReader, IssueStateReader
from bot.ports.reports import ReportsUowFactory
from bot.ports.telemetry import Latencies
from bot.services.ingest import IngestOptions, IngestResult
from bot.services.issue_sync import refresh_issue_states, refresh_task_checks
from bot.services.objective import ReportConfig
from bot.services.outbox_sender import OutboxSender
from bot.services.rejudge import rejudge_knowledge
from bot.services.run_meta import RunMeta
from bot.services.webhook_context import WebhookConfig, WebhookPorts
from bot.services.writeback import ingest_and_plan, plan_lifecycle
from bot.store.deliveries import EngineDeliveryStore
from bot.store.engine import make_engine, refresh_statistics, retrying_conflicts
from bot.store.migrate import upgrade
from bot.store.outbox_queue import SqlOutboxQueue
from bot.store.reports import uow_factory
from bot.store.uow import OutboxFactory, SqlUnitOfWork

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)
CRITERIA_FILE = "criteria.toml"
# How often SQLite's planner statistics are checked against the tables' sizes: a check counts
# the rows (0.1 s CPU with a year stored), and a table must double to be analysed again.
STATISTICS_MINUTES = 60


def utc_now() -> datetime:
    """Return the current time in UTC (the one clock of the service)."""
    return datetime.now(UTC)


def open_engine(settings: Settings, *, migrate: bool = True) -> Engine:
    """Bring the database to the newest schema (unless told not to) and return an engine on it.

    Raises TriageError (bad URL, unreachable database) for the caller to report.
    """
    ensure_data_dir(settings)
    if migrate:
        upgrade(settings.database_url)
    return make_engine(
        settings.database_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        write_wait_s=settings.sqlite_write_wait_s,
    )


@dataclass
class Gateways:
    """The process-wide GitHub gateway and, with App auth, one per installation."""

    gateway: GitHubGateway
    dry_run: bool
    # The gateway acting as a delivery's GitHub App installation; None: `gateway` for all.
    for_installation: Callable[[int], GitHubGateway] | None = None


def make_gateways(settings: Settings) -> Gateways:
    """Build the gateways (no network: an App finds its installation on the first call)."""
    from bot.github.factory import GatewayFactory  # noqa: PLC0415  PyGithub is slow to import

    factory = GatewayFactory(settings)
    if factory.dry_run:
        log.warning(
            "no GitHub credentials or repository configured: running in dry-run, "
            "GitHub writes are recorded, not sent"
        )
    return Gateways(factory.gateway, factory.dry_run, factory.for_installation)


@dataclass
class Components:
    """Everything the service is made of, built once; tests may swap a field before start."""

    settings: Settings
    engine: Engine
    kb: KnowledgeBase
    # Made on first use (the web app makes them at once): `ingest` on the CLI needs no GitHub.
    github: Gateways | None = None
    clock: Callable[[], datetime] = utc_now
    # The outbox every unit of work writes to; None: the SQL outbox in the same session.
    outbox_factory: OutboxFactory | None = None
    retry_interval_s: float = 60.0  # how often waiting webhook deliveries are looked at
    retry_after_s: float = 30.0  # how long a failed attempt waits before the next
    scheduler: BackgroundScheduler | None = field(default=None, repr=False)
    # Where ingests, webhook deliveries and outbox sends report their durations (the web app
    # sets its Prometheus histograms; the CLI records none).
    latencies: Latencies = field(default_factory=Latencies)

    @property
    def gateways(self) -> Gateways:
        """The GitHub gateways, made on first use."""
        if self.github is None:
            self.github = make_gateways(self.settings)
        return self.github

    @property
    def gateway(self) -> GitHubGateway:
        """The process-wide GitHub gateway (a dry-run recorder without credentials)."""
        return self.gateways.gateway

    @property
    def dry_run(self) -> bool:
        """True when GitHub writes are recorded, not sent."""
        return self.gateways.dry_run

    def gateway_for(self, installation_id: int | None = None) -> GitHubGateway:
        """Return the gateway acting as an App installation (None: the process-wide one)."""
        if installation_id is None or self.gateways.for_installation is None:
            return self.gateways.gateway
        return self.gateways.for_installation(installation_id)

    def uow(self, *, write: bool = True) -> SqlUnitOfWork:
        """Return a fresh unit of work on the engine (every repository, one transaction)."""
        return SqlUnitOfWork(self.engine, write=write, outbox=self.outbox_factory)

    @property
    def reports(self) -> ReportsUowFactory:
        """The factory of report units of work (objective, criteria, weekly report)."""
        return uow_factory(self.engine, outbox=self.outbox_factory)

    @cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        """The success criteria of knowledge/criteria.toml, loaded on first use."""
        return load_criteria(self.settings.knowledge_dir / CRITERIA_FILE)

    @cached_property
    def ingest_options(self) -> IngestOptions:
        """The ingest knobs (size cap, flaky policy)."""
        return configs.ingest_options(self.settings)

    @cached_property
    def report_config(self) -> ReportConfig:
        """The objective's window and the weekly report's time zone, schedule and target."""
        return configs.report_config(self.settings)

    @cached_property
    def policy(self) -> PolicyConfig:
        """The comment policy's defaults."""
        return configs.policy_config(self.settings)

    @cached_property
    def webhook_config(self) -> WebhookConfig:
        """The webhook service's settings."""
        return configs.webhook_config(self.settings, self.criteria)

    def webhook_ports(self, gateway: GitHubGateway | None = None) -> WebhookPorts:
        """The ports the webhook service drives; `gateway` fixes one for every delivery."""
        github = self.gateway_for if gateway is None else (lambda _id: gateway)
        return WebhookPorts(
            uow=self.uow,
            github=github,
            kb=self.kb,
            ingest_options=self.ingest_options,
            policy=self.policy,
            config=self.webhook_config,
            latency=self.latencies.webhook_delivery,
            recorder=EngineDeliveryStore(self.engine),
        )

    def ingest(self, data: bytes, meta: RunMeta) -> IngestResult:
        """Ingest one report and plan its comments in one unit of work (a re-upload: no-op)."""
        latency = self.latencies.ingest
        if latency is None:
            return self._ingest(data, meta)
        started, outcome = time.perf_counter(), "error"
        try:
            result = self._ingest(data, meta)
            outcome = "created" if result.created else "duplicate"
        except TriageError:
            outcome = "rejected"  # bad input, answered 4xx
            raise
        finally:
            latency.observe(outcome, time.perf_counter() - started)
        return result

    def _ingest(self, data: bytes, meta: RunMeta) -> IngestResult:
        def once() -> IngestResult:
            with self.uow() as uow:
                result = ingest_and_plan(
                    uow, self.kb, data, meta, now=self.clock(), options=self.ingest_options,
                    policy=self.policy,
                )  # fmt: skip
                uow.commit()
            return result

        return retrying_conflicts(once)

    def lifecycle_pass(self) -> None:
        """Suggest closing known issues quiet for stale_issue_days (the daily job)."""
        try:
            with self.uow() as uow:
                planned = plan_lifecycle(
                    uow.writeback, uow.outbox, now=self.clock(),
                    config=self.policy,
                )  # fmt: skip
                uow.commit()
        except Exception:  # a failed pass is retried tomorrow; the service keeps serving
            log.exception("issue lifecycle pass failed")
            return
        if planned:
            log.info("issue lifecycle pass planned %d comment(s)", planned)

    def rejudge_stored(self) -> None:
        """Re-judge stored failures when the loaded knowledge base is not the one last judged."""
        with self.uow() as uow:
            result = rejudge_knowledge(
                uow, self.kb, now=self.clock(), policy=self.ingest_options.flaky
            )
            uow.commit()
        if result is not None:
            log.info(
                "knowledge base %s: re-judged %d stored failures, %d changed",
                self.kb.digest[:12], result.scanned, len(result.changes),
            )  # fmt: skip

    def refresh_statistics(self) -> None:
        """Analyse the SQLite tables that doubled or halved since their statistics (hourly)."""
        try:
            refresh_statistics(self.engine)
        except Exception:  # tried again at the next interval; old statistics still serve
            log.exception("planner statistics refresh failed")

    def issue_reader(self) -> IssueStateReader | None:
        """The gateway that can read issues: a dry run with credentials reads through."""
        for candidate in (self.gateway, getattr(self.gateway, "reads", None)):
            if isinstance(candidate, IssueStateReader):
                return candidate
        return None

    def refresh_issue_states(self) -> None:
        """Read the known issues' state and the tracking issue's task list from GitHub."""
        self.refresh_task_checks()
        reader = self.issue_reader()
        if reader is None:
            return
        known = {number: issue.title for number, issue in self.kb.issues.items()}
        try:
            done = refresh_issue_states(self.uow, reader, known, now=self.clock())
        except Exception:  # tried again at the next interval; the service keeps serving
            log.exception("known issue state refresh failed")
            return
        log.info("read the state of %d known issue(s) from GitHub", done)

    def refresh_task_checks(self) -> None:
        """Read the tracking issue's task list (with the issue states' refresh)."""
        reader = next(
            (
                c
                for c in (self.gateway, getattr(self.gateway, "reads", None))
                if isinstance(c, IssueBodyReader)
            ),
            None,
        )
        phrases = task_phrases(self.criteria)
        if reader is None or not phrases:
            return
        try:
            done = refresh_task_checks(
                self.uow, reader, self.settings.report_issue, phrases, now=self.clock()
            )
        except Exception:  # tried again at the next interval; the service keeps serving
            log.exception("tracking issue task list refresh failed")
            return
        log.info("task list of #%d: %d change(s) stored", self.settings.report_issue, done)

    def sender(self, *, sleep: Callable[[float], object] | None = None) -> OutboxSender:
        """The outbox sender on this database and the process-wide gateway."""
        config = configs.sender_config(self.settings)
        return OutboxSender(
            SqlOutboxQueue(self.engine), self.gateway, config=config, sleep=sleep,
            latency=self.latencies.outbox_send,
        )  # fmt: skip

    def start_scheduler(self) -> BackgroundScheduler | None:
        """Start the weekly report, daily lifecycle and hourly upkeep jobs, if enabled."""
        if not self.settings.scheduler_enabled:
            return None
        from bot.scheduler import (  # noqa: PLC0415
            add_daily_job,
            add_interval_job,
            start_scheduler,
            weekly_job,
        )

        job = weekly_job(self.reports, self.report_config, self.criteria, self.clock)
        self.scheduler = start_scheduler(self.settings, job)
        add_daily_job(self.scheduler, self.settings, self.lifecycle_pass, job_id="lifecycle")
        add_interval_job(
            self.scheduler, self.refresh_issue_states, job_id="issue-states",
            minutes=self.settings.issue_refresh_minutes,
        )  # fmt: skip
        if self.engine.dialect.name == "sqlite":  # PostgreSQL: autovacuum analyses
            add_interval_job(
                self.scheduler, self.refresh_statistics, job_id="planner-statistics",
                minutes=STATISTICS_MINUTES,
            )  # fmt: skip
        return self.scheduler

    def close(self) -> None:
        """Stop the scheduler and close the engine's connections."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self.engine.dispose()


def build(
    settings: Settings,
    *,
    migrate: bool = False,
    github: bool = True,
    kb: KnowledgeBase | None = None,
) -> Components:
    """Build the service's parts; a bad knowledge dir fails here, before anything listens.

    The engine connects lazily: migrations run at start (web lifespan) or with migrate=True.
    github=False leaves the gateways to be made on first use (CLI commands without GitHub).
    Raises TriageError (knowledge base, database URL, GitHub credentials) for the caller.
    """
    knowledge = kb if kb is not None else load_knowledge(settings.knowledge_dir)
    gateways = make_gateways(settings) if github else None
    engine = open_engine(settings, migrate=migrate)
    return Components(settings=settings, engine=engine, kb=knowledge, github=gateways)
