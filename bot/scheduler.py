"""APScheduler 3.x wiring: the weekly report job, its cron trigger and the start-up catch-up."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.core.criteria import Criterion
from bot.ports.reports import ReportsUowFactory
from bot.services.objective import ReportConfig
from bot.services.weekly import post_due_reports

log = logging.getLogger(__name__)
JOB_ID = "weekly-report"


def weekly_trigger(settings: Settings) -> CronTrigger:
    """Build the weekly cron trigger; Settings has checked the weekday name, hour and zone."""
    return CronTrigger(
        day_of_week=settings.report_day,
        hour=settings.report_hour,
        minute=0,
        timezone=ZoneInfo(settings.report_timezone),
    )


def weekly_job(
    uow: ReportsUowFactory,
    config: ReportConfig,
    criteria: Sequence[Criterion],
    clock: Callable[[], datetime],
) -> Callable[[], None]:
    """Return the job: post every due report; claims make a second replica's run a no-op."""

    def run() -> None:
        try:
            posted = post_due_reports(uow, now=clock(), config=config, criteria=criteria)
        except Exception:
            log.exception("weekly report job failed")
            return
        for suite, week in posted:
            log.info("weekly report of %s for %s queued", suite, week)

    return run


def start_scheduler(settings: Settings, job: Callable[[], None]) -> BackgroundScheduler:
    """Start a background scheduler running `job` weekly and once now (the catch-up)."""
    trigger = weekly_trigger(settings)
    scheduler = BackgroundScheduler(timezone=trigger.timezone)
    # misfire_grace_time=None: a run the process was too busy for still happens, late.
    scheduler.add_job(
        job,
        trigger,
        id=JOB_ID,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.add_job(job, id=f"{JOB_ID}-catch-up", max_instances=1)
    scheduler.start()
    return scheduler


def add_daily_job(
    scheduler: BackgroundScheduler, settings: Settings, job: Callable[[], None], *, job_id: str
) -> None:
    """Run `job` every day half an hour after the report hour, in the report's time zone."""
    trigger = CronTrigger(
        hour=settings.report_hour, minute=30, timezone=weekly_trigger(settings).timezone
    )
    scheduler.add_job(
        job,
        trigger,
        id=job_id,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )


def add_interval_job(
    scheduler: BackgroundScheduler, job: Callable[[], None], *, minutes: int, job_id: str
) -> None:
    """Run `job` now and then every `minutes` (the first run is the start-up catch-up)."""
    scheduler.add_job(
        job,
        IntervalTrigger(minutes=minutes),
        id=job_id,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(ZoneInfo("UTC")),
    )
