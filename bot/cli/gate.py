"""`triage-bot gate`: exit by a run's verdict, for pipelines that upload reports themselves."""

from __future__ import annotations

import gzip
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.pytest_plugin_upload import (
    Target,
    ci_metadata,
    display_url,
    post_report,
    runs_endpoint,
)

PASSES = frozenset({"pass", "known"})
CANNOT_JUDGE = 2  # unreachable service, bad answer: the gate never passes what it did not judge
TIMEOUT_S = 30.0


def _verdict_url(base: str, run_id: int) -> str:
    return f"{runs_endpoint(base)}/{run_id}/verdict"


def _fetch(url: str, token: str | None) -> dict[str, Any]:
    """GET a verdict; raise typer.Exit(2) with one line when it cannot be had."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            value: Any = json.loads(response.read(1024 * 1024))
    except urllib.error.HTTPError as exc:
        _cannot_judge(f"{display_url(url)} answered HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        _cannot_judge(f"cannot read {display_url(url)}: {type(exc).__name__}")
    if not isinstance(value, dict) or not isinstance(value.get("status"), str):
        _cannot_judge(f"{display_url(url)} gave no verdict")
    verdict: dict[str, Any] = value
    return verdict


def _cannot_judge(why: str) -> None:
    typer.echo(f"error: {why}; not judged", err=True)
    raise typer.Exit(CANNOT_JUDGE)


def _upload(url: str, token: str | None, report: Path, suite: str, environment: str) -> int:
    """Upload a report as the pytest plugin does (retrying a busy service); return its run id."""
    try:
        body = report.read_bytes()
    except OSError as exc:
        typer.echo(f"error: {report}: {exc.strerror or exc}", err=True)
        raise typer.Exit(CANNOT_JUDGE) from None
    if not body.startswith(b"\x1f\x8b"):  # the upload is sent gzip, as the plugin sends it
        body = gzip.compress(body)
    target = Target(
        runs_endpoint(url), token, suite, environment, timeout_s=TIMEOUT_S,
        metadata=ci_metadata(os.environ),
    )  # fmt: skip
    outcome = post_report(target, body, started_at="")
    if not outcome.ok or outcome.run_id is None:
        _cannot_judge(outcome.message)
    assert outcome.run_id is not None  # _cannot_judge exits
    return outcome.run_id


def gate_command(
    run_id: Annotated[int | None, typer.Argument(min=1, help="A stored run's id.")] = None,
    *,
    url: Annotated[str, typer.Option(envvar="TRIAGE_URL", help="The service's base URL.")] = "",
    token: Annotated[
        str | None, typer.Option(envvar="TRIAGE_TOKEN", help="Bearer token (upload, reads).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Upload this report first, then judge its run.")
    ] = None,
    suite: Annotated[str | None, typer.Option(help="The report's suite (with --report).")] = None,
    environment: Annotated[str, typer.Option(help="The report's environment.")] = "staging",
) -> None:
    """Exit 0 when a run's failures are all known or flaky, 1 when any is news, 2 unjudged."""
    if not url:
        typer.echo("error: give --url or set TRIAGE_URL", err=True)
        raise typer.Exit(CANNOT_JUDGE)
    if (run_id is None) == (report is None):
        typer.echo("error: give a RUN_ID, or --report FILE with --suite", err=True)
        raise typer.Exit(CANNOT_JUDGE)
    if report is not None:
        if not suite:
            typer.echo("error: --report needs --suite", err=True)
            raise typer.Exit(CANNOT_JUDGE)
        run_id = _upload(url, token, report, suite, environment)
    assert run_id is not None  # one of the two was given
    read_token = os.environ.get("TRIAGE_READ_TOKEN") or token
    verdict = _fetch(_verdict_url(url, run_id), read_token)
    typer.echo(f"run {run_id}: {verdict['status']}: {verdict.get('title', '')}")
    for suspect in verdict.get("suspects", []):
        if isinstance(suspect, dict) and suspect.get("compare_url"):
            typer.echo(f"  {suspect.get('nodeid')}: started in {suspect['compare_url']}")
    raise typer.Exit(0 if verdict["status"] in PASSES else 1)


def register(app: typer.Typer) -> None:
    """Add the `gate` command."""
    app.command("gate")(gate_command)
