"""`triage-bot serve`: run the service under uvicorn."""

from __future__ import annotations

import ipaddress
import logging
from enum import StrEnum
from typing import Annotated

import typer

from bot.cli.banner import GitHubAuth, Start, banner
from bot.cli.db import database_failed, load_settings
from bot.config import Settings, ensure_data_dir
from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase, load_knowledge


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


# The web edge is loaded by uvicorn from this factory path, so the CLI does not import it.
APP_FACTORY = "bot.web.app:create_app_from_env"


def preflight(settings: Settings) -> KnowledgeBase:
    """Check knowledge base and database; one clear line and exit 2 when one is bad."""
    try:
        kb = load_knowledge(settings.knowledge_dir)
    except TriageError as exc:
        typer.echo(f"error: knowledge base {settings.knowledge_dir}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    from bot.store.migrate import upgrade  # noqa: PLC0415  server libraries: lazily

    try:
        ensure_data_dir(settings)
        upgrade(settings.database_url)  # the app runs it again at start: a no-op by then
    except TriageError as exc:
        database_failed(settings, exc)
    return kb


def github_auth(settings: Settings) -> GitHubAuth:
    """Name the GitHub credentials the settings hold (None: the service runs dry)."""
    from bot.github.auth import credentials  # noqa: PLC0415  PyGithub: only serve needs it

    found = credentials(settings)
    if found is None:
        return None
    return "app" if found.kind == "app" else "token"


def is_loopback(host: str) -> bool:
    """Tell whether `host` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def open_reads_warning(settings: Settings, host: str) -> str | None:
    """The banner line when the service listens beyond loopback and anyone can read it."""
    token = settings.read_token.get_secret_value() if settings.read_token else ""
    if token or is_loopback(host):
        return None
    return (
        f"warning: listening on {host} with no TRIAGE_READ_TOKEN: anyone who can reach it "
        "can read runs, failures and the dashboard"
    )


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: TRIAGE_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port to listen on [default: TRIAGE_PORT or 8000]."),
    ] = None,
    log_level: Annotated[LogLevel, typer.Option(help="How much to log.")] = LogLevel.INFO,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Worker processes (PostgreSQL only; default TRIAGE_WORKERS or 1)."
        ),
    ] = None,
) -> None:
    """Start the HTTP service (upload API, GitHub webhook, read API)."""
    import uvicorn  # noqa: PLC0415  slow to import; only this command needs it

    settings = load_settings()
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    count = workers or settings.workers
    if count > 1 and not settings.database_url.startswith("postgresql"):
        typer.echo(
            f"error: --workers {count} needs PostgreSQL: SQLite has one writer, so the "
            "embedded database is served by one process (set TRIAGE_DATABASE_URL to a "
            "postgresql+psycopg:// URL, or use 1 worker)",
            err=True,
        )
        raise typer.Exit(2)
    kb = preflight(settings)
    start = Start(host, port, len(kb.issues), github_auth(settings))
    for line in banner(settings, start):
        typer.echo(line, err=True)
    warning = open_reads_warning(settings, host)
    if warning:
        typer.echo(warning, err=True)
    logging.basicConfig(
        level=log_level.value.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The app logs at start whether it runs in dry-run (no GitHub credentials).
    uvicorn.run(
        APP_FACTORY, factory=True, host=host, port=port, log_level=log_level.value,
        workers=count if count > 1 else None,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the serve command."""
    app.command("serve")(serve)
