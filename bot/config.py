"""Settings from TRIAGE_* variables and .env; built by get_settings(), never at import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.errors import TriageError
from bot.shipped import DEFAULT_KNOWLEDGE_DIR

DATABASE_FILE = "triage.db"


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/triage-bot, or ~/.local/share/triage-bot (the XDG default)."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says a relative value is ignored
        return Path(xdg) / "triage-bot"
    try:
        return Path.home() / ".local" / "share" / "triage-bot"
    except RuntimeError:  # no HOME and no password entry: a container's bare user id
        return Path.cwd() / "triage-bot-data"


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file (four slashes before an absolute path)."""
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Everything configurable; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage
    # Empty: the SQLite file DATABASE_FILE in data_dir, an absolute place, so a command run
    # from another folder never creates a new empty database there.
    database_url: str = ""
    data_dir: Path = Field(default_factory=default_data_dir, validate_default=True)
    sqlite_busy_timeout_ms: int = 5000
    # SQLite has one writer: a write waits this long for the others, then answers 503.
    sqlite_write_wait_s: float = Field(default=30.0, gt=0)
    workers: int = Field(default=1, ge=1, le=64)  # uvicorn worker processes (PostgreSQL only)

    # --- knowledge base
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR

    # --- HTTP API
    host: str = "127.0.0.1"  # `triage-bot serve` listens here unless --host says otherwise
    port: int = Field(default=8000, ge=0, le=65535)
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

    @field_validator("data_dir")
    @classmethod
    def _absolute_dir(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @model_validator(mode="after")
    def _database_in_data_dir(self) -> Settings:
        if not self.database_url.strip():
            self.database_url = sqlite_url(self.data_dir / DATABASE_FILE)
        return self

    def database_in_data_dir(self) -> bool:
        """Tell whether the database is the SQLite file in data_dir (its folder is ours)."""
        return self.database_url == sqlite_url(self.data_dir / DATABASE_FILE)

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


def ensure_data_dir(settings: Settings) -> None:
    """Create data_dir when the database lives there (a first run); TriageError if it cannot."""
    if not settings.database_in_data_dir():
        return  # an explicit URL names its own place: a missing folder there is an error
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TriageError(
            "database_unavailable",
            f"cannot create the data directory {settings.data_dir} (TRIAGE_DATA_DIR): "
            f"{exc.strerror or type(exc).__name__}",
        ) from None


def shown_database_url(url: str) -> str:
    """The database URL as it may be printed: password masked, a SQLite path made absolute."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(not a URL)" if "@" in url else url
    if scheme.startswith("sqlite"):
        path, question, query = rest.removeprefix("/").partition("?")
        if not path:
            return url  # in memory
        if path != ":memory:" and not Path(path).is_absolute():
            path = str(Path.cwd() / path)
        return f"{scheme}:///{path}{question}{query}"
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if colon else f"{user}@{hostport}"
    from bot.core.redact import redact  # noqa: PLC0415  needs re2; only when printing a URL

    return f"{scheme}://{netloc}{slash}{redact(tail)}"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def get_settings() -> Settings:
    """Build settings from the environment and .env."""
    return Settings()
