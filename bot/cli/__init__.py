"""The `triage-bot` command: one Typer app composed from one module per command group."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="triage-bot",
    help="Link staging pytest failures to known GitHub issues.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Each command module exposes register(app); the list is the one composition point.
    from bot.cli import backtest, classify, db, ingest, kb, outbox, report, serve

    for module in (classify, ingest, kb, backtest, db, serve, report, outbox):
        module.register(app)


def main() -> None:
    """Entry point of the console script."""
    _register()
    app()
