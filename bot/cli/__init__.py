"""The `triage-bot` command: one Typer app composed from one module per command group.

`classify`, `kb validate` and `gate` are the light client that CI installs
(`pip install triage-bot`); the other commands need the server extra. The command line decides
which modules load, so a light command never imports the server's libraries, even where they
are installed, and a server command without them says what to install in one line.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import cache

import typer

from bot.cli import classify, gate, kb

SERVER_EXTRA = "pip install 'triage-bot[server]'"

# Every command module, in the order of `--help`: this list is the one composition point.
# backtest adds its command to kb's group, so it comes after kb.
MODULES = ("classify", "ingest", "kb", "backtest", "db", "serve", "report", "outbox", "gate")
LIGHT = {"classify": classify, "kb": kb, "gate": gate}
# What each server module adds, so that an install without the server can still name it.
SERVER_COMMANDS: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest",),
    "backtest": ("kb", "backtest"),
    "db": ("db",),
    "serve": ("serve",),
    "report": ("report",),
    "outbox": ("outbox",),
}


def build_app(*, server: bool = True) -> typer.Typer:
    """Compose the command; without `server`, only the light commands."""
    app = typer.Typer(
        name="triage-bot",
        help="Link staging pytest failures to known GitHub issues.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name in MODULES:
        if name in LIGHT:
            LIGHT[name].register(app)
        elif server:
            _register_server(app, name)
    return app


def is_light(args: list[str]) -> bool:
    """Whether the command line runs a light command (its --help included)."""
    return args[:1] in (["classify"], ["gate"]) or args[:2] == ["kb", "validate"]


def missing_server(exc: ModuleNotFoundError) -> bool:
    """Whether an import failed for a library outside the package: the server extra's."""
    return bool(exc.name) and str(exc.name).partition(".")[0] != "bot"


def needs_server(command: str, exc: ModuleNotFoundError) -> str:
    """Say in one line what to install for a server command."""
    return f"error: {command} needs the server: {SERVER_EXTRA} (no module named {exc.name!r})"


def _register_server(app: typer.Typer, name: str) -> None:
    try:
        module = importlib.import_module(f"bot.cli.{name}")
    except ModuleNotFoundError as exc:
        if not missing_server(exc):
            raise
        *group, command = SERVER_COMMANDS[name]
        parent = kb.kb_app if group == ["kb"] else app
        parent.command(
            command,
            help="Needs the server extra, which is not installed.",
            add_help_option=False,  # --help too gets the one line that says what to install
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(_stub(" ".join(("triage-bot", *group, command)), exc))
        return
    module.register(app)


def _stub(command: str, exc: ModuleNotFoundError) -> Callable[[], None]:
    def needs_the_server() -> None:
        typer.echo(needs_server(f"`{command}`", exc), err=True)
        raise typer.Exit(2)

    return needs_the_server


@cache
def _full_app() -> typer.Typer:
    return build_app(server=True)


def __getattr__(name: str) -> typer.Typer:
    # `bot.cli.app`, every command, is built on first use: importing bot.cli stays light.
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point of the console script."""
    command = build_app(server=not is_light(sys.argv[1:]))
    try:
        command()
    except ModuleNotFoundError as exc:
        # A server library a command imports lazily, missing from a light install.
        if not missing_server(exc):
            raise
        typer.echo(needs_server("this command", exc), err=True)
        raise SystemExit(2) from None
