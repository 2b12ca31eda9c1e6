"""`triage-bot report weekly`: render a weekly report to stdout, or post it through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.cli.db import database_line, load_settings
from bot.configs import report_config
from bot.core.criteria import load_criteria
from bot.core.errors import TriageError
from bot.core.weekly import IsoWeek, last_complete_week
from bot.services.objective import report_tz
from bot.services.weekly import post_week, render_week

report_app = typer.Typer(help="Weekly success-metrics reports.", no_args_is_help=True)


@report_app.command("weekly")
def weekly(
    suite: Annotated[str | None, typer.Option(help="Suite; every suite when left out.")] = None,
    week: Annotated[
        str | None, typer.Option(help="ISO week like 2026-W47; the last complete one by default.")
    ] = None,
    post: Annotated[bool, typer.Option(help="Queue it on GitHub instead of printing it.")] = False,
) -> None:
    """Render the weekly report (or post it, once per suite and week)."""
    from bot.compose import open_engine  # noqa: PLC0415  server libraries: lazily
    from bot.store.reports import uow_factory  # noqa: PLC0415

    settings = load_settings()
    config = report_config(settings)
    now = datetime.now(UTC)
    try:
        chosen = IsoWeek.parse(week) if week else last_complete_week(now, report_tz(config))
        criteria = load_criteria(settings.knowledge_dir / "criteria.toml")
        engine = open_engine(settings)
    except TriageError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(database_line(settings), err=True)
    uow = uow_factory(engine)
    try:
        with uow() as tx:
            suites = [suite] if suite else tx.reports.suites()
        if not suites:
            typer.echo("error: no run ingested yet, so there is nothing to report", err=True)
            raise typer.Exit(1)
        for name in suites:
            args = {"suite": name, "week": chosen, "now": now, "config": config}
            if post:
                done = post_week(uow, criteria=criteria, **args)  # type: ignore[arg-type]
                state = "queued" if done else "already posted (claimed earlier)"
                typer.echo(f"{name} {chosen}: {state}")
            else:
                typer.echo(render_week(uow, criteria=criteria, **args))  # type: ignore[arg-type]
    except TriageError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add the `report` command group."""
    app.add_typer(report_app, name="report")
