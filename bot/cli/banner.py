"""The lines `triage-bot serve` prints once at start: what is on, what is off, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.config import Settings, shown_database_url

GitHubAuth = Literal["token", "app"] | None


@dataclass(frozen=True, slots=True)
class Start:
    """What serve knows at start besides the settings."""

    host: str
    port: int
    known_issues: int
    github_auth: GitHubAuth  # the credentials found, None without any (bot.github.auth)


def _is_set(secret: object) -> bool:
    value = getattr(secret, "get_secret_value", lambda: "")()
    return bool(value)


def _database(settings: Settings) -> str:
    where = " (the default place in TRIAGE_DATA_DIR)" if settings.database_in_data_dir() else ""
    return shown_database_url(settings.database_url) + where


def _uploads(settings: Settings) -> str:
    if _is_set(settings.api_token):
        return "on: POST /api/v1/runs takes a report with the bearer TRIAGE_API_TOKEN"
    return "off: POST /api/v1/runs is refused (401) until TRIAGE_API_TOKEN is set"


def _webhooks(settings: Settings) -> str:
    if _is_set(settings.webhook_secret):
        return "on: deliveries signed with TRIAGE_WEBHOOK_SECRET are taken"
    return "off: every delivery is refused (401) until TRIAGE_WEBHOOK_SECRET is set"


def _reads(settings: Settings) -> str:
    if _is_set(settings.read_token):
        return "need a token: the API, dashboard and /metrics ask for TRIAGE_READ_TOKEN"
    return "open: TRIAGE_READ_TOKEN is not set, so whoever reaches the service reads it"


def _dry_run(settings: Settings, auth: GitHubAuth) -> str:
    # The same order of checks as bot.github.gateway.make_gateway.
    if auth is None:
        return (
            "on: no GitHub credentials (set TRIAGE_GITHUB_TOKEN, or TRIAGE_GITHUB_APP_ID and "
            "TRIAGE_GITHUB_APP_PRIVATE_KEY); writes are recorded in the outbox, not sent"
        )
    if not settings.github_repository:
        return "on: TRIAGE_GITHUB_REPOSITORY is not set; writes are recorded, not sent"
    who = "a token" if auth == "token" else "the GitHub App"
    if settings.github_dry_run:
        return (
            f"on: TRIAGE_GITHUB_DRY_RUN is true; reads {settings.github_repository} as {who}, "
            "writes are recorded, not sent"
        )
    return f"off: writes go to {settings.github_repository} as {who}"


def _sender(settings: Settings) -> str:
    if settings.outbox_sender_enabled:
        return "on: sends the outbox to GitHub, one write at a time"
    return "off: TRIAGE_OUTBOX_SENDER_ENABLED is false; run `triage-bot outbox drain` elsewhere"


def _scheduler(settings: Settings) -> str:
    if not settings.scheduler_enabled:
        return "off: TRIAGE_SCHEDULER_ENABLED is false; no weekly report, no daily issue pass"
    where = "a new issue" if settings.report_as_new_issue else f"issue #{settings.report_issue}"
    return (
        f"on: weekly report {settings.report_day} {settings.report_hour:02d}:00 "
        f"{settings.report_timezone} to {where}, daily issue pass"
    )


def banner(settings: Settings, start: Start) -> list[str]:
    """Return the start banner; it names settings, never prints a secret's value."""
    rows = {
        "database": _database(settings),
        "knowledge": f"{settings.knowledge_dir}: {start.known_issues} known issues",
        "uploads": _uploads(settings),
        "webhooks": _webhooks(settings),
        "reads": _reads(settings),
        "dry-run": _dry_run(settings, start.github_auth),
        "sender": _sender(settings),
        "scheduler": _scheduler(settings),
    }
    head = f"triage-bot serving on http://{_host(start.host)}:{start.port}"
    return [head, *(f"  {name:<10} {text}" for name, text in rows.items())]


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
