"""The `triage-bot` command: one Typer app composed from one module per command group."""

from __future__ import annotations

import typer

from bot.cli import backtest, classify, db, gate, ingest, kb, outbox, report, serve

app = typer.Typer(
    name="triage-bot",
    help="Link staging pytest failures to known GitHub issues.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each command module exposes register(app); this list is the one composition point.
# backtest adds its command to kb's group, so it comes after kb.
for _module in (classify, ingest, kb, backtest, db, serve, report, outbox, gate):
    _module.register(app)


def main() -> None:
    """Entry point of the console script."""
    app()
