"""`triage-bot kb backtest [DIR]`: which stored failures a changed knowledge base would relink."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.db import load_settings, open_database
from bot.cli.ingest import parse_time
from bot.cli.kb import kb_app
from bot.config import Settings
from bot.configs import ingest_options
from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.services.backtest import BacktestResult, backtest
from bot.services.rejudge import RejudgeResult, rejudge_knowledge


def _table(result: BacktestResult, console: Console) -> None:
    table = Table("change", "run", "node id", "phase", "before", "after")
    for c in result.changes:
        before = f"#{c.before_issue} {c.before_rule}" if c.before_issue else "-"
        after = f"#{c.after_issue} {c.after_rule}" if c.after_issue else "-"
        table.add_row(c.kind, str(c.run_id), c.nodeid, c.phase, before, after)
    if result.changes:
        console.print(table)


def _judged(issue: int | None, rule: str | None, classification: str, category: str) -> str:
    link = f"#{issue} {rule}" if issue else "-"
    return f"{link} {classification}/{category}"


def _applied(result: RejudgeResult, console: Console, *, as_json: bool) -> None:
    """Print each applied change: the failure, what it was and what it is now."""
    if as_json:
        for c in result.changes:
            typer.echo(json.dumps(asdict(c), default=str))
    elif result.changes:
        table = Table("failure", "run", "node id", "before", "after")
        for c in result.changes:
            before = _judged(
                c.before_issue, c.before_rule, c.before_classification, c.before_category
            )
            after = _judged(c.after_issue, c.after_rule, c.after_classification, c.after_category)
            table.add_row(str(c.failure_id), str(c.run_id), c.nodeid, before, after)
        console.print(table)
    typer.echo(
        f"applied: re-judged {result.scanned} failure(s), {len(result.changes)} changed",
        err=as_json,
    )


def _apply(settings: Settings, kb: KnowledgeBase, *, as_json: bool) -> None:
    engine = open_database(settings)
    try:
        from bot.store.uow import SqlUnitOfWork  # noqa: PLC0415  server libraries: lazily

        with SqlUnitOfWork(engine) as uow:
            policy = ingest_options(settings).flaky
            result = rejudge_knowledge(uow, kb, now=datetime.now(UTC), policy=policy, force=True)
            uow.commit()
    finally:
        engine.dispose()
    if result is not None:  # always, as it is forced
        _applied(result, Console(), as_json=as_json)


def backtest_command(
    directory: Annotated[
        Path | None, typer.Argument(help="knowledge directory (default: the settings' one)")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="only failures from (ISO)")] = None,
    limit: Annotated[int, typer.Option("--limit", help="changes listed at most")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per change")] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="re-judge stored failures with DIR and record it")
    ] = False,
) -> None:
    """Replay stored failures against DIR and list new, lost and changed matches.

    With --apply, stored failures are re-judged with DIR (match, classification, category),
    every change is recorded (GET /api/v1/judgements) and printed.
    """
    settings = load_settings()
    try:
        kb = load_knowledge(directory or settings.knowledge_dir)
    except TriageError as exc:
        for line in exc.message.splitlines():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
    if apply:
        _apply(settings, kb, as_json=as_json)
        return
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
