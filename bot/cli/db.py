"""`triage-bot db upgrade`, and the settings and database opening the other commands share.

Every command that opens the database names it in one line on stderr (password masked), so a
command run with other settings or from another folder never works on a database unnoticed.
Server libraries (SQLAlchemy, Alembic, PyGithub) are imported inside the functions that need
them, so light commands (`classify`, `kb validate`, `--help`) start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer
from pydantic import ValidationError

from bot.config import Settings, get_settings, shown_database_url
from bot.core.errors import TriageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.compose import Components
    from bot.core.knowledge import KnowledgeBase

db_app = typer.Typer(help="Database commands.", no_args_is_help=True)


def load_settings(code: int = 2) -> Settings:
    """Build settings, or exit `code` with one line naming every invalid setting."""
    try:
        return get_settings()
    except ValidationError as exc:
        typer.echo(settings_error(exc), err=True)
        raise typer.Exit(code) from None


def settings_error(exc: ValidationError) -> str:
    """Say in one line which TRIAGE_* settings are invalid and why."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return f"error: invalid TRIAGE_* settings: {exc.error_count()} problem(s): {problems}"


def database_line(settings: Settings) -> str:
    """The line naming the database a command works on."""
    return f"database: {shown_database_url(settings.database_url)}"


def database_failed(settings: Settings, exc: TriageError) -> NoReturn:
    """Say in one line which database could not be opened and why, then exit 2."""
    typer.echo(f"error: database: {exc} ({shown_database_url(settings.database_url)})", err=True)
    raise typer.Exit(2)


def open_database(settings: Settings) -> Engine:
    """Migrate the configured database to the newest schema and return an engine on it."""
    from bot.compose import open_engine  # noqa: PLC0415  server libraries: only when needed

    try:
        engine = open_engine(settings)
    except TriageError as exc:
        database_failed(settings, exc)
    typer.echo(database_line(settings), err=True)
    return engine


def open_components(settings: Settings, kb: KnowledgeBase) -> Components:
    """Build the service's parts at the composition root: database migrated, GitHub lazily."""
    from bot.compose import build  # noqa: PLC0415  server libraries: only when needed

    try:
        parts = build(settings, migrate=True, github=False, kb=kb)
    except TriageError as exc:
        database_failed(settings, exc)
    typer.echo(database_line(settings), err=True)
    return parts


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
