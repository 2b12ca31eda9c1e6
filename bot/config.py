"""Settings from TRIAGE_* variables and .env; built by get_settings(), never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.shipped import DEFAULT_KNOWLEDGE_DIR


class Settings(BaseSettings):
    """Everything configurable; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage
    database_url: str = "sqlite:///triage.db"
    sqlite_busy_timeout_ms: int = 5000
    # SQLite has one writer: a write waits this long for the others, then answers 503.
    sqlite_write_wait_s: float = Field(default=30.0, gt=0)
    workers: int = Field(default=1, ge=1, le=64)  # uvicorn worker processes (PostgreSQL only)

    # --- knowledge base
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR

    # --- HTTP API
    api_token: SecretStr | None = None
    # Set: every read route (API, dashboard, /metrics) needs it; unset: reads are open.
    read_token: SecretStr | None = None
    max_report_bytes: int = 50 * 1024 * 1024
    page_size_max: int = 200

    # --- classification
    flaky_flips: int = Field(default=3, description="pass/fail flips that make a test flaky")
    flaky_window: int = Field(default=10, description="recent runs looked at for flips")

    # --- GitHub
    webhook_secret: SecretStr | None = None
    github_token: SecretStr | None = None
    github_app_id: int | None = None
    github_app_private_key: SecretStr | None = None
    github_app_installation_id: int | None = None
    github_api_url: str = "https://api.github.com"
    github_repository: str | None = None  # owner/name of the repository holding known issues
    github_bot_login: str | None = None  # the bot's own login, so its comments are ignored
    github_dry_run: bool = False
    link_confirm_threshold: int = Field(
        default=200, ge=0, description="`/triage link` past this many failures needs --confirm"
    )
    workflow_names: list[str] = Field(default_factory=lambda: ["staging-e2e"])
    artifact_max_bytes: int = 200 * 1024 * 1024

    # --- outbox and comment policy
    outbox_sender_enabled: bool = True  # off: another process runs `triage-bot outbox drain`
    outbox_min_interval_s: float = 1.0
    outbox_max_attempts: int = 8
    outbox_backoff_base_s: float = 2.0
    outbox_lease_s: float = 120.0  # a claimed row a dead sender left is retried after this
    # A write whose outcome is unknown (time-out, dropped connection, 5xx) is in doubt: its
    # marker is looked for over this window, longer than GitHub's slowest writes, before any
    # new write; only then may it be sent again.
    outbox_doubt_window_s: float = Field(default=600.0, ge=0)
    # A dead row is retried by itself this many seconds after each death (1 h, 6 h, 24 h),
    # then stays dead and visible until `triage-bot outbox retry`; [] turns revivals off.
    outbox_dead_retry_s: list[float] = Field(default_factory=lambda: [3600.0, 21600.0, 86400.0])
    comment_quiet_days: int = 7
    comment_daily_budget: int = 3
    comment_spike_factor: float = 3.0
    reopen_on_recurrence: bool = False
    stale_issue_days: int = 14
    file_new_issues: bool = False
    new_issue_min_runs: int = 3
    issue_refresh_minutes: int = Field(default=60, ge=1)  # known issues' state read from GitHub
    # Each run's verdict on its commit: a check run (GitHub App) or a commit status (token);
    # auto picks by the credentials. public_url is the bot's own address, for links back.
    commit_verdict: Literal["off", "auto", "check_run", "status"] = "off"
    public_url: str | None = None

    # --- objective and weekly report
    objective_days: int = 30
    objective_min_coverage: float = 0.9
    report_issue: int = 623
    report_as_new_issue: bool = False
    report_day: str = "mon"  # a weekday name: "mon" or "monday"; never a number
    report_hour: int = Field(default=9, ge=0, le=23)
    report_timezone: str = "UTC"
    scheduler_enabled: bool = True

    @field_validator("report_day")
    @classmethod
    def _weekday_name(cls, value: str) -> str:
        # APScheduler 3 counts day 0 as Monday, unlike cron: names avoid that trap.
        day = value.strip().lower()
        if day[:3] not in WEEKDAYS or (len(day) > 3 and day not in WEEKDAY_NAMES):
            raise ValueError(f"must be a weekday name such as mon or monday, not {value!r}")
        return day[:3]

    @field_validator("report_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def get_settings() -> Settings:
    """Build settings from the environment and .env."""
    return Settings()
