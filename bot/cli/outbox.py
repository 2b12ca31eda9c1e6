"""`triage-bot outbox drain|retry|status|show`: send, requeue dead rows, count, or read rows."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.db import load_settings, open_database
from bot.configs import sender_config
from bot.core.errors import TriageError
from bot.services.outbox_sender import OutboxSender

if TYPE_CHECKING:
    from bot.store.outbox_queue import OutboxEntry

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


@outbox_app.command("show")
def show_command(
    item_id: Annotated[
        int | None, typer.Argument(min=1, help="One row to show in full, with its text.")
    ] = None,
    state: Annotated[
        str | None, typer.Option(help="Only rows in this state: pending, sent, dead, superseded.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Rows in the table.")] = 20,
    before: Annotated[
        int | None, typer.Option("--before", min=1, help="Only rows with a smaller id.")
    ] = None,
) -> None:
    """List recent outbox rows (`pending?`: in doubt), or show one with the text it posts."""
    from bot.store.outbox_queue import STATES, get_entry, list_entries  # noqa: PLC0415  lazily

    if state is not None and state not in STATES:
        typer.echo(f"error: --state must be one of {', '.join(STATES)}, not {state!r}", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    engine = open_database(settings)
    try:
        if item_id is not None:
            entry = get_entry(engine, item_id)
            if entry is None:
                typer.echo(f"error: no outbox row {item_id}", err=True)
                raise typer.Exit(1)
            typer.echo(full_row(entry, settings.github_repository))
            return
        entries, more = list_entries(engine, state=state, before=before, limit=limit)
    finally:
        engine.dispose()
    typer.echo(table(entries))
    if more:
        typer.echo(f"older rows: triage-bot outbox show --before {entries[-1].id}", err=True)


def _shown(text: str) -> str:
    # Texts quote failure messages an uploader wrote: no escape sequence reaches the terminal.
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)


def _target(entry: OutboxEntry) -> str:
    return "new issue" if entry.issue is None else f"#{entry.issue}"


def table(entries: list[OutboxEntry]) -> str:
    """One line per row: id, state, kind, target, attempts, last change and the first line."""
    if not entries:
        return "no outbox rows"
    lines = [
        f"{'ID':>7}  {'STATE':<10}  {'KIND':<13}  {'TARGET':<9}  TRIES  UPDATED (UTC)     TEXT"
    ]
    for e in entries:
        state = f"{e.state}?" if e.in_doubt else e.state
        when = e.updated_at.strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"{e.id:>7}  {state:<10}  {e.kind:<13}  {_target(e):<9}  {e.attempts:>5}  "
            f"{when}  {_shown(e.summary)}"
        )
    return "\n".join(lines)


def full_row(entry: OutboxEntry, repository: str | None) -> str:
    """Every field of a row, then the text it posts."""
    state = (
        f"{entry.state} (in doubt: sent, outcome not known yet)" if entry.in_doubt else entry.state
    )
    fields = [
        ("id", str(entry.id)),
        ("key", entry.key),
        ("kind", entry.kind),
        ("state", state),
        ("target", f"{repository or '(TRIAGE_GITHUB_REPOSITORY not set)'} {_target(entry)}"),
        ("attempts", f"{entry.attempts} (automatic retries of a dead row: {entry.revivals})"),
        ("created", entry.created_at.isoformat()),
        ("updated", entry.updated_at.isoformat()),
        ("next attempt", entry.next_attempt_at.isoformat()),
        ("last error", entry.last_error or "-"),
        ("result id", "-" if entry.result_id is None else str(entry.result_id)),
    ]
    if entry.title is not None:
        fields.append(("title", entry.title))
    head = "\n".join(f"{name + ':':<14}{value}" for name, value in fields)
    text = entry.body if entry.body is not None else entry.summary
    return _shown(f"{head}\n\n{text}")


def register(app: typer.Typer) -> None:
    """Add the `outbox` command group."""
    app.add_typer(outbox_app, name="outbox")
