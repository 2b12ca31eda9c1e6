"""`triage-bot classify`: which failures of a report are known issues, which are news."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.model import Failure, Match
from bot.core.reports import read_report_path
from bot.core.signature import fingerprint
from bot.shipped import DEFAULT_KNOWLEDGE_DIR


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class FailOn(StrEnum):
    NEVER = "never"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ClassifiedFailure:
    failure: Failure
    match: Match | None
    fingerprint: str
    category: str

    def as_json(self) -> dict[str, object]:
        """Return the documented one-object-per-line JSON shape."""
        return {
            "nodeid": self.failure.nodeid,
            "phase": self.failure.phase.value,
            "outcome": self.failure.outcome.value,
            "exception": self.failure.exception,
            "message": self.failure.message,
            "fingerprint": self.fingerprint,
            "known_issue": self.match.issue if self.match else None,
            "rule": self.match.rule if self.match else None,
            "category": self.category,
        }


def classify_failures(kb: KnowledgeBase, failures: list[Failure]) -> list[ClassifiedFailure]:
    """Match every failure against the knowledge base."""
    matches = kb.match_many(failures)
    return [
        ClassifiedFailure(f, m, fingerprint(f), kb.category(f, m).value)
        for f, m in zip(failures, matches, strict=True)
    ]


def _table(rows: list[ClassifiedFailure], kb: KnowledgeBase, console: Console) -> None:
    table = Table(title=f"{len(rows)} failure(s)", title_justify="left")
    for column in ("test", "phase", "issue", "rule", "category", "fingerprint"):
        table.add_column(column, overflow="fold", no_wrap=column != "test")
    for row in rows:
        issue, rule = "[bold red]unknown[/]", "-"
        if row.match:
            issue = f"#{row.match.issue}" + "".join(f" ~#{n}" for n in row.match.ambiguous_with)
            rule = row.match.rule.partition("#")[2]
        category = "infra" if row.category == "infrastructure" else row.category
        table.add_row(
            row.failure.nodeid, row.failure.phase.value, issue, rule, category, row.fingerprint
        )
    console.print(table)
    seen = sorted({r.match.issue for r in rows if r.match})
    for number in seen:
        console.print(f"  #{number} {kb.issues[number].title}", markup=False, highlight=False)
    unknown = sum(1 for r in rows if r.match is None)
    console.print(f"known: {len(rows) - unknown}  unknown: {unknown}")


def classify(
    files: Annotated[list[Path], typer.Argument(help="Report files (any of the three formats).")],
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.TABLE
    ),
    knowledge: Annotated[
        Path, typer.Option("--knowledge", help="Knowledge base directory.")
    ] = DEFAULT_KNOWLEDGE_DIR,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when any failure is unknown.")
    ] = FailOn.NEVER,
) -> None:
    """Match every failure of the reports to the known-issue knowledge base."""
    try:
        kb = load_knowledge(knowledge)
    except TriageError as exc:
        typer.echo(f"error: knowledge base {knowledge}: {exc}", err=True)
        raise typer.Exit(2) from None
    rows: list[ClassifiedFailure] = []
    bad = False
    for path in files:
        try:
            run = read_report_path(path)
        except TriageError as exc:
            # Errors about the file itself already name it; content errors do not.
            said = str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"
            typer.echo(f"error: {said}", err=True)
            bad = True
            continue
        rows.extend(classify_failures(kb, list(run.failures)))
    if output is OutputFormat.JSON:
        for row in rows:
            typer.echo(json.dumps(row.as_json(), ensure_ascii=False))
    elif rows or not bad:
        _table(rows, kb, Console(width=max(Console().width, 120)))
    if bad:
        raise typer.Exit(2)
    if fail_on is FailOn.UNKNOWN and any(r.match is None for r in rows):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the classify command."""
    app.command(name="classify")(classify)
