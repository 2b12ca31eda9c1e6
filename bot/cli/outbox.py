"""`triage-bot outbox drain|retry|status`: send the planned writes, requeue dead ones, or show."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.cli.db import load_settings, open_database
from bot.configs import sender_config
from bot.core.errors import TriageError
from bot.services.outbox_sender import OutboxSender

outbox_app = typer.Typer(help="The outbox of GitHub writes.", no_args_is_help=True)


@outbox_app.command("drain")
def drain_command(
    wait: bool = typer.Option(True, help="Also wait out the backoff of rows not due yet."),
    limit: int | None = typer.Option(None, min=1, help="Stop after this many rows."),
) -> None:
    """Send pending GitHub writes serially until the outbox is empty."""
    from bot.github.gateway import make_gateway  # noqa: PLC0415  server libraries: lazily
    from bot.store.outbox_queue import SqlOutboxQueue  # noqa: PLC0415

    settings = load_settings()
    engine = open_database(settings)
    try:
        try:
            gateway, dry = make_gateway(settings)
        except TriageError as exc:
            typer.echo(f"error: GitHub: {exc}", err=True)
            raise typer.Exit(2) from None
        if dry:
            typer.echo("dry run: no GitHub credentials; writes are logged, not sent")
        sender = OutboxSender(SqlOutboxQueue(engine), gateway, config=sender_config(settings))
        result = sender.drain(wait=wait, limit=limit)
        typer.echo(
            f"ok: sent {result.sent}, retried {result.retried}, dead {result.dead}, "
            f"in doubt {result.in_doubt}, revived {result.revived}"
        )
    finally:
        engine.dispose()


@outbox_app.command("retry")
def retry_command(
    ids: Annotated[
        list[int] | None, typer.Argument(min=1, help="Outbox row ids (see `outbox status`).")
    ] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Every dead row.")] = False,
) -> None:
    """Put dead rows back in the queue, with all their attempts, for the sender to send now."""
    from bot.store.outbox_dead import REQUEUE_MAX  # noqa: PLC0415  server libraries: lazily
    from bot.store.outbox_queue import SqlOutboxQueue  # noqa: PLC0415

    if not ids and not dead:
        typer.echo("error: give outbox row ids, or --dead for every dead row", err=True)
        raise typer.Exit(2)
    if ids and len(ids) > REQUEUE_MAX:
        typer.echo(f"error: at most {REQUEUE_MAX} ids at once, got {len(ids)}", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    engine = open_database(settings)
    try:
        done = SqlOutboxQueue(engine).requeue(ids or None, now=datetime.now(UTC))
    finally:
        engine.dispose()
    listed = ", ".join(str(i) for i in done.requeued) or "none"
    typer.echo(f"ok: requeued {len(done.requeued)} dead rows: {listed}")
    for item_id, state in done.skipped:
        typer.echo(f"skipped {item_id}: {state}, not dead", err=True)
    if done.skipped:
        raise typer.Exit(1)


@outbox_app.command("status")
def status_command() -> None:
    """Print the outbox depth per state and the dead rows, as JSON."""
    from bot.store.outbox_queue import SqlOutboxQueue  # noqa: PLC0415  server libraries: lazily

    settings = load_settings()
    engine = open_database(settings)
    try:
        typer.echo(json.dumps(asdict(SqlOutboxQueue(engine).stats()), indent=2))
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add the `outbox` command group."""
    app.add_typer(outbox_app, name="outbox")
