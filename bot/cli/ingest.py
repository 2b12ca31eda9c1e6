"""`triage-bot ingest FILE...`: load reports into history, with a progress bar; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from bot.cli.db import load_settings, open_components
from bot.configs import policy_config
from bot.core.errors import TriageError
from bot.core.knowledge import load_knowledge
from bot.core.timeutil import as_utc
from bot.services.ingest import ingest_report
from bot.services.run_meta import RunMeta, check_meta, check_started
from bot.services.writeback import ingest_and_plan


def parse_time(value: str | None) -> datetime | None:
    """Read an ISO 8601 time (date alone allowed); a time without zone is UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    return as_utc(parsed)


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        if path.stat().st_size > max_bytes:
            raise TriageError("too_large", f"larger than {max_bytes} bytes")
        return path.read_bytes()
    except IsADirectoryError:
        raise TriageError("bad_file", "is a directory") from None
    except OSError as exc:
        raise TriageError("bad_file", exc.strerror or "cannot be read") from None


def ingest(
    files: Annotated[list[Path], typer.Argument(help="Report files (any format, maybe gzip).")],
    *,
    suite: Annotated[str, typer.Option("--suite", help="Suite name.")],
    environment: Annotated[str, typer.Option("--environment", help="Environment.")] = "staging",
    at: Annotated[
        str | None,
        typer.Option("--at", help="Start time (ISO 8601) for backfill; default: the report's."),
    ] = None,
    branch: Annotated[str | None, typer.Option("--branch")] = None,
    commit: Annotated[str | None, typer.Option("--commit")] = None,
    ci_url: Annotated[str | None, typer.Option("--ci-url")] = None,
    comment: Annotated[
        bool,
        typer.Option(
            "--comment/--no-comment",
            help="Also plan GitHub comments (off: a backfill should not comment on old runs).",
        ),
    ] = False,
) -> None:
    """Store reports as runs of a suite; a report stored before is skipped."""
    started = parse_time(at)
    err = Console(stderr=True)
    meta = RunMeta(suite, environment, branch, commit, ci_url, started, source="cli")
    try:
        check_meta(meta)
        if started is not None:
            check_started(started, now=datetime.now(UTC))
    except TriageError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    settings = load_settings()
    try:
        kb = load_knowledge(settings.knowledge_dir)
    except TriageError as exc:
        err.print(f"error: knowledge base: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    parts = open_components(settings, kb)
    options = parts.ingest_options
    policy = policy_config(settings)
    bad = stored = skipped = 0
    try:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("ingesting", total=len(files))
            for path in files:
                try:
                    data = _read(path, options.max_bytes)
                    with parts.uow() as uow:
                        now = datetime.now(UTC)
                        if comment:
                            result = ingest_and_plan(
                                uow, kb, data, meta, now=now, options=options, policy=policy
                            )
                        else:
                            result = ingest_report(uow, kb, data, meta, now=now, options=options)
                        uow.commit()
                except TriageError as exc:
                    bad += 1
                    progress.console.print(
                        f"error: {path}: {exc}", markup=False, highlight=False, soft_wrap=True
                    )
                else:
                    stored, skipped = stored + result.created, skipped + (not result.created)
                progress.advance(task)
        if stored:
            # A backfill can multiply the history at once: plan the service's next reads with
            # statistics of what is stored now, not of before (SQLite; a no-op elsewhere).
            parts.refresh_statistics()
    finally:
        parts.close()
    typer.echo(f"stored {stored} run(s), {skipped} already stored, {bad} bad file(s)")
    if bad:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ingest command."""
    app.command(name="ingest")(ingest)
