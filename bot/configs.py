"""The services' typed configs, built from Settings: the one bridge from bot.config to services.

Services never read Settings (an import-linter contract); the composition root and the CLI
build these values here and hand them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.config import WEEKDAYS, Settings
from bot.core.artifacts import Limits
from bot.core.classify import FlakyPolicy
from bot.core.comment_policy import PolicyConfig
from bot.core.commit_verdict import VerdictTarget
from bot.core.criteria import Criterion, task_phrases
from bot.services.ingest import IngestOptions
from bot.services.objective import ReportConfig
from bot.services.outbox_config import SenderConfig
from bot.services.webhook_context import WebhookConfig


def ingest_options(settings: Settings) -> IngestOptions:
    """The ingest knobs: the report size cap and the flaky policy."""
    return IngestOptions(
        max_bytes=settings.max_report_bytes,
        flaky=FlakyPolicy(flips=settings.flaky_flips, window=settings.flaky_window),
    )


def sender_config(settings: Settings) -> SenderConfig:
    """The outbox sender's pacing and retry knobs."""
    return SenderConfig(
        min_interval_s=settings.outbox_min_interval_s,
        max_attempts=settings.outbox_max_attempts,
        backoff_base_s=settings.outbox_backoff_base_s,
        lease_s=settings.outbox_lease_s,
        doubt_window_s=settings.outbox_doubt_window_s,
        dead_retry_s=tuple(settings.outbox_dead_retry_s),
    )


def policy_config(settings: Settings) -> PolicyConfig:
    """The comment policy's defaults."""
    return PolicyConfig(
        quiet_days=settings.comment_quiet_days,
        daily_budget=settings.comment_daily_budget,
        spike_factor=settings.comment_spike_factor,
        reopen_on_recurrence=settings.reopen_on_recurrence,
        stale_issue_days=settings.stale_issue_days,
        file_new_issues=settings.file_new_issues,
        new_issue_min_runs=settings.new_issue_min_runs,
        commit_verdict=verdict_target(settings),
        repository_web=github_web(settings),
    )


def verdict_target(settings: Settings) -> VerdictTarget | None:
    """Choose how runs' verdicts show on their commits; None when TRIAGE_COMMIT_VERDICT is off.

    auto: a check run for a GitHub App (only an App may create them), else a commit status
    (a token, or a dry run without credentials).
    """
    mode = settings.commit_verdict
    if mode == "off":
        return None
    if mode == "auto":
        app = settings.github_app_id is not None and not settings.github_token
        mode = "check_run" if app else "status"
    public = settings.public_url.rstrip("/") if settings.public_url else None
    return VerdictTarget(mode, public_url=public, web=github_web(settings))


def github_web(settings: Settings) -> str | None:
    """Return the repository's web address (compare links), None without a repository."""
    if not settings.github_repository:
        return None
    api = settings.github_api_url.rstrip("/")
    host = "https://github.com" if api == "https://api.github.com" else api.removesuffix("/api/v3")
    return f"{host}/{settings.github_repository}"


def webhook_config(settings: Settings, criteria: Sequence[Criterion]) -> WebhookConfig:
    """The webhook service's settings."""
    return WebhookConfig(
        workflow_names=tuple(settings.workflow_names),
        bot_login=settings.github_bot_login,
        artifact_max_bytes=settings.artifact_max_bytes,
        limits=Limits(max_total=settings.max_report_bytes, max_member=settings.max_report_bytes),
        link_confirm_threshold=settings.link_confirm_threshold,
        tracking_issue=settings.report_issue,
        task_phrases=tuple(task_phrases(criteria).items()),
    )


def report_config(settings: Settings) -> ReportConfig:
    """The objective's window and the weekly report's time zone, schedule and target."""
    return ReportConfig(
        timezone=settings.report_timezone,
        objective_days=settings.objective_days,
        objective_min_coverage=settings.objective_min_coverage,
        report_issue=settings.report_issue,
        report_as_new_issue=settings.report_as_new_issue,
        due_after=timedelta(days=WEEKDAYS.index(settings.report_day), hours=settings.report_hour),
    )
