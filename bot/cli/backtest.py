"""`triage-bot kb backtest [DIR]`: which stored failures a changed knowledge base would relink."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.db import load_settings, open_database
from bot.cli.ingest import parse_time
from bot.cli.kb import kb_app
from bot.core.errors import TriageError
from bot.core.knowledge import load_knowledge
from bot.services.backtest import BacktestResult, backtest


def _table(result: BacktestResult, console: Console) -> None:
    table = Table("change", "run", "node id", "phase", "before", "after")
    for c in result.changes:
        before = f"#{c.before_issue} {c.before_rule}" if c.before_issue else "-"
        after = f"#{c.after_issue} {c.after_rule}" if c.after_issue else "-"
        table.add_row(c.kind, str(c.run_id), c.nodeid, c.phase, before, after)
    if result.changes:
        console.print(table)


def backtest_command(
    directory: Annotated[
        Path | None, typer.Argument(help="knowledge directory (default: the settings' one)")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="only failures from (ISO)")] = None,
    limit: Annotated[int, typer.Option("--limit", help="changes listed at most")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per change")] = False,
) -> None:
    """Replay stored failures against DIR and list new, lost and changed matches."""
    settings = load_settings()
    try:
        kb = load_knowledge(directory or settings.knowledge_dir)
    except TriageError as exc:
        for line in exc.message.splitlines():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
    engine = open_database(settings)
    try:
        from bot.store.uow import SqlUnitOfWork  # noqa: PLC0415  server libraries: lazily

        with SqlUnitOfWork(engine, write=False) as uow:
            result = backtest(uow, kb, since=parse_time(since), max_changes=limit)
    finally:
        engine.dispose()
    if as_json:
        for change in result.changes:
            typer.echo(json.dumps(asdict(change)))
    else:
        _table(result, Console())
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result.counts.items())
    typer.echo(f"replayed {result.replayed} failure(s): {counts}", err=as_json)


def register(app: typer.Typer) -> None:
    """Add `backtest` to the `kb` command group (the group itself is bot.cli.kb's)."""
    kb_app.command(name="backtest")(backtest_command)
