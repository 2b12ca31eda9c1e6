"""Weekly report use cases: build, render, and post exactly once per suite and ISO week."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.criteria import Criterion, Verdict, evaluate
from bot.core.errors import TriageError
from bot.core.intents import CreateIssue, Intent, PostComment
from bot.core.tasklist import TaskCheck, check_at
from bot.core.weekly import IsoWeek, WeeklyReport, last_complete_week, render_markdown, report_title
from bot.ports.reports import ReportRepository
from bot.services.objective import (
    ReportConfig,
    UnknownSuiteError,
    UowFactory,
    objective_of,
    report_tz,
)

log = logging.getLogger(__name__)
# How many missed weeks a start-up catch-up posts at most, newest last.
CATCH_UP_WEEKS = 4


def build_report(
    reports: ReportRepository,
    *,
    suite: str,
    week: IsoWeek,
    now: datetime,
    config: ReportConfig,
    criteria: Sequence[Criterion],
    tasks: Sequence[TaskCheck] = (),
) -> WeeklyReport:
    """Gather one week of one suite and judge the criteria on it.

    `tasks` is the history of the task criteria's checks; each is judged as of the week's end
    (or now, for a week still running).
    """
    tz = report_tz(config)
    start, end = week.bounds(tz)
    at = min(end - timedelta(microseconds=1), now)
    # The report shows no streak resets: read none, so its cost does not grow with history.
    obj = objective_of(reports, suite=suite, at=at, config=config, resets=0)
    facts = reports.week_facts(suite=suite, week=week, tz=tz, now=now)
    first = reports.first_run_at(suite=suite)
    first_day = first.astimezone(tz).date() if first is not None else None
    facts = replace(facts, objective=obj, first_run_day=first_day, tasks=tasks_at(tasks, at))
    return WeeklyReport(
        suite=suite,
        week=week,
        facts=facts,
        verdicts=evaluate(criteria, facts),
        objective=obj,
        new_clusters=reports.new_clusters(suite=suite, start=start, end=end, limit=10),
        flaky=reports.flaky_tests(suite=suite, start=start, end=end, limit=10),
        daily_pass_rate=reports.daily_pass_rate(suite=suite, start=start, end=end, tz=tz),
        issue_titles=reports.issue_titles(),
    )


def tasks_at(history: Sequence[TaskCheck], at: datetime) -> dict[str, TaskCheck]:
    """Each task criterion's newest check at or before `at`."""
    per_criterion: dict[str, list[TaskCheck]] = {}
    for check in history:
        per_criterion.setdefault(check.criterion, []).append(check)
    later = at + timedelta(microseconds=1)
    found = {cid: check_at(checks, later) for cid, checks in per_criterion.items()}
    return {cid: check for cid, check in found.items() if check is not None}


def report_intent(report: WeeklyReport, body: str, config: ReportConfig) -> Intent:
    """Plan the GitHub write of a report: a comment on the tracking issue or a new issue."""
    key = f"weekly:{report.suite}:{report.week}"
    if config.report_as_new_issue:
        title = report_title(report.suite, report.week)
        return CreateIssue(title=title, body=body, labels=("triage-report",), key=key)
    return PostComment(issue=config.report_issue, body=body, key=key)


def render_week(
    uow: UowFactory,
    *,
    suite: str,
    week: IsoWeek,
    now: datetime,
    config: ReportConfig,
    criteria: Sequence[Criterion],
) -> str:
    """Render one week's report as Markdown without posting it."""
    with uow() as tx:
        report = build_report(
            tx.reports, suite=suite, week=week, now=now, config=config, criteria=criteria,
            tasks=tx.tasks.history(),
        )  # fmt: skip
        return render_markdown(report)


def judge_week(
    uow: UowFactory,
    *,
    suite: str,
    week: IsoWeek,
    now: datetime,
    config: ReportConfig,
    criteria: Sequence[Criterion],
) -> list[Verdict]:
    """Judge every criterion on one week of one suite."""
    with uow() as tx:
        if suite not in tx.reports.suites():
            raise UnknownSuiteError("unknown_suite", f"no run of suite {suite!r} was ever ingested")
        report = build_report(
            tx.reports, suite=suite, week=week, now=now, config=config, criteria=criteria,
            tasks=tx.tasks.history(),
        )  # fmt: skip
        return list(report.verdicts)


def post_week(
    uow: UowFactory,
    *,
    suite: str,
    week: IsoWeek,
    now: datetime,
    config: ReportConfig,
    criteria: Sequence[Criterion],
) -> bool:
    """Claim the week, render and enqueue the report in one transaction; False if claimed.

    Only a week that has ended is posted: claiming a running week would block its real report.
    """
    _, end = week.bounds(report_tz(config))
    if end > now:
        raise TriageError(
            "week_not_over", f"{week} ends {end:%Y-%m-%d %H:%M %Z}: only an ended week is posted"
        )
    with uow(write=True) as tx:
        if suite not in tx.reports.suites():
            raise UnknownSuiteError("unknown_suite", f"no run of suite {suite!r} was ever ingested")
        if not tx.reports.claim_week(suite=suite, week=str(week), now=now):
            return False
        report = build_report(
            tx.reports, suite=suite, week=week, now=now, config=config, criteria=criteria,
            tasks=tx.tasks.history(),
        )  # fmt: skip
        tx.outbox.enqueue([report_intent(report, render_markdown(report), config)], now=now)
        tx.commit()
        return True


def due_weeks(claimed: set[str], latest: IsoWeek) -> list[IsoWeek]:
    """List the weeks to post: the latest complete one and any missed since the last claim."""
    if str(latest) in claimed:
        return []
    weeks = [latest]
    while claimed and len(weeks) < CATCH_UP_WEEKS:
        earlier = weeks[-1].previous()
        if str(earlier) in claimed:
            break
        weeks.append(earlier)
    return list(reversed(weeks))


def post_due_reports(
    uow: UowFactory, *, now: datetime, config: ReportConfig, criteria: Sequence[Criterion]
) -> list[tuple[str, IsoWeek]]:
    """Post every suite's due weekly reports (scheduled job and start-up catch-up)."""
    # A week is due once its scheduled time (report_day at report_hour after it) has come, so a
    # restart early on Monday does not post before the 09:00 schedule.
    latest = last_complete_week(now - config.due_after, report_tz(config))
    tz = report_tz(config)
    with uow() as tx:
        plan = {
            s: (tx.reports.claimed_weeks(suite=s), tx.reports.first_run_at(suite=s))
            for s in tx.reports.suites()
        }
    posted = []
    for suite, (claimed, first) in plan.items():
        for week in due_weeks(claimed, latest):
            if first is not None and week.bounds(tz)[1] <= first:
                continue  # the suite did not exist yet: an empty report is only noise
            try:
                done = post_week(
                    uow, suite=suite, week=week, now=now, config=config, criteria=criteria
                )
            except TriageError as exc:
                log.warning("weekly report %s %s not posted: %s", suite, week, exc.message)
                continue
            except Exception:  # one suite's failure must not cost the others their report
                log.exception("weekly report %s %s failed", suite, week)
                continue
            if done:
                posted.append((suite, week))
    return posted
