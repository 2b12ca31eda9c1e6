"""`triage-bot kb`: check the knowledge base (default directory: settings.knowledge_dir).

Light: the light client (no server extra) runs `kb validate`, so settings load only when
the directory is not given, and only where the server is installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from bot.core.errors import KnowledgeError
from bot.core.knowledge import load_knowledge
from bot.shipped import DEFAULT_KNOWLEDGE_DIR

kb_app = typer.Typer(help="Knowledge base commands.", no_args_is_help=True)


@kb_app.command()
def validate(
    directory: Annotated[
        Path | None, typer.Argument(help="knowledge directory (default: the settings' one)")
    ] = None,
) -> None:
    """Load and check every knowledge file; print one line per problem."""
    if directory is None:
        directory = _default_dir()
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        for line in exc.message.splitlines():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
    rules = sum(len(issue.rules) for issue in kb.issues.values())
    typer.echo(f"ok: {len(kb.issues)} known issues, {rules} rules")


def _default_dir() -> Path:
    """Return the settings' knowledge directory (light client: the variable, or the shipped)."""
    try:
        # The server's settings, lazily: the one settings loader every command uses.
        from bot.cli.db import load_settings  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        if exc.name not in {"pydantic", "pydantic_settings"}:
            raise
        # The light client has no server settings (and reads no .env): the variable alone.
        return Path(os.environ.get("TRIAGE_KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR)
    return load_settings(code=1).knowledge_dir


def register(app: typer.Typer) -> None:
    """Add the `kb` command group to the main app."""
    app.add_typer(kb_app, name="kb")
