"""`triage-bot outbox drain|status`: send the planned GitHub writes now, or show the queue."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from bot.cli.db import load_settings, open_database
from bot.core.errors import TriageError
from bot.services.outbox import OutboxSender, SenderConfig

outbox_app = typer.Typer(help="The outbox of GitHub writes.", no_args_is_help=True)


@outbox_app.command("drain")
def drain_command(
    wait: bool = typer.Option(True, help="Also wait out the backoff of rows not due yet."),
    limit: int | None = typer.Option(None, min=1, help="Stop after this many rows."),
) -> None:
    """Send pending GitHub writes serially until the outbox is empty."""
    from bot.github.gateway import make_gateway  # noqa: PLC0415  server libraries: lazily
    from bot.store.outbox import ensure_outbox_tables  # noqa: PLC0415
    from bot.store.outbox_queue import SqlOutboxQueue  # noqa: PLC0415

    settings = load_settings()
    engine = open_database(settings)
    try:
        ensure_outbox_tables(engine)
        try:
            gateway, dry = make_gateway(settings)
        except TriageError as exc:
            typer.echo(f"error: GitHub: {exc}", err=True)
            raise typer.Exit(2) from None
        if dry:
            typer.echo("dry run: no GitHub credentials; writes are logged, not sent")
        sender = OutboxSender(
            SqlOutboxQueue(engine), gateway, config=SenderConfig.from_settings(settings)
        )
        result = sender.drain(wait=wait, limit=limit)
        typer.echo(f"ok: sent {result.sent}, retried {result.retried}, dead {result.dead}")
    finally:
        engine.dispose()


@outbox_app.command("status")
def status_command() -> None:
    """Print the outbox depth per state and the dead rows, as JSON."""
    from bot.store.outbox import ensure_outbox_tables  # noqa: PLC0415  server libraries: lazily
    from bot.store.outbox_queue import SqlOutboxQueue  # noqa: PLC0415

    settings = load_settings()
    engine = open_database(settings)
    try:
        ensure_outbox_tables(engine)
        typer.echo(json.dumps(asdict(SqlOutboxQueue(engine).stats()), indent=2))
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add the `outbox` command group."""
    app.add_typer(outbox_app, name="outbox")
