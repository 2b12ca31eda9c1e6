"""`triage-bot kb`: check the knowledge base (default directory: settings.knowledge_dir)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.db import load_settings
from bot.core.errors import KnowledgeError
from bot.core.knowledge import load_knowledge

kb_app = typer.Typer(help="Knowledge base commands.", no_args_is_help=True)


@kb_app.command()
def validate(
    directory: Annotated[
        Path | None, typer.Argument(help="knowledge directory (default: the settings' one)")
    ] = None,
) -> None:
    """Load and check every knowledge file; print one line per problem."""
    if directory is None:
        directory = load_settings(code=1).knowledge_dir
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        for line in exc.message.splitlines():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
    rules = sum(len(issue.rules) for issue in kb.issues.values())
    typer.echo(f"ok: {len(kb.issues)} known issues, {rules} rules")


def register(app: typer.Typer) -> None:
    """Add the `kb` command group to the main app."""
    app.add_typer(kb_app, name="kb")
