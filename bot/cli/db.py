"""`triage-bot db upgrade`, and the database opening the other commands share."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from sqlalchemy import Engine

from bot.config import Settings, get_settings
from bot.core.errors import TriageError
from bot.store.engine import make_engine
from bot.store.migrate import upgrade

db_app = typer.Typer(help="Database commands.", no_args_is_help=True)


def load_settings() -> Settings:
    """Build settings, or exit 2 with one line naming every invalid setting."""
    try:
        return get_settings()
    except ValidationError as exc:
        typer.echo(settings_error(exc), err=True)
        raise typer.Exit(2) from None


def settings_error(exc: ValidationError) -> str:
    """Say in one line which TRIAGE_* settings are invalid and why."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return f"error: invalid TRIAGE_* settings: {exc.error_count()} problem(s): {problems}"


def open_database(settings: Settings) -> Engine:
    """Migrate the configured database to the newest schema and return an engine on it."""
    try:
        upgrade(settings.database_url)
        return make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    except TriageError as exc:
        typer.echo(f"error: database: {exc}", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Bring the database (TRIAGE_DATABASE_URL) to the newest schema."""
    settings = load_settings()
    open_database(settings).dispose()
    scheme = settings.database_url.partition(":")[0]
    typer.echo(f"ok: {scheme} database is at the newest schema")


def register(app: typer.Typer) -> None:
    """Add the `db` command group."""
    app.add_typer(db_app, name="db")
