"""GET /: the server-rendered dashboard, inline SVG charts, no JavaScript; all text escaped."""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path
from string import Template
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from bot.core.charts import legend, svg_rate, svg_series
from bot.core.objective import Objective
from bot.services.objective import DashboardView, SuiteView, UnknownSuiteError, dashboard
from bot.web.deps import Context
from bot.web.errors import ApiError

HERE = Path(__file__).resolve().parent
CLASSES = ("known", "recurred", "flaky", "new", "persistent")

router = APIRouter()


@cache
def _template() -> Template:
    return Template((HERE / "templates" / "dashboard.html").read_text(encoding="utf-8"))


@cache
def _css() -> str:
    return (HERE / "static" / "dashboard.css").read_text(encoding="utf-8")


def _table(head: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    ths = "".join(
        f"<th{' class=num' if h.startswith('#') else ''}>{h.lstrip('#')}</th>" for h in head
    )
    trs = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table>"


def _verdict(ok: bool, yes: str = "met", no: str = "not met") -> str:
    return f'<span class="met">{yes}</span>' if ok else f'<span class="unmet">{no}</span>'


def _objectives(objectives: list[Objective]) -> str:
    rows = []
    for o in objectives:
        last = o.last_regression
        what = (
            f"{last.at:%Y-%m-%d %H:%M} <code>{escape(last.nodeid)}</code><br>{escape(last.reason)}"
            if last
            else '<span class="muted">none</span>'
        )
        rows.append(
            [
                f'<a href="?suite={escape(quote(o.suite))}">{escape(o.suite)}</a>',
                f"{o.streak_days} days ({escape(o.progress)})",
                _verdict(o.window_clean, "clean", "not clean"),
                f"{o.coverage:.0%} ({o.days_with_runs}/{o.days} days)",
                _verdict(o.met),
                what,
            ]
        )
    head = ["Suite", "Streak", "Window", "Coverage", "Objective", "Last regression"]
    return _table(head, rows, "No run ingested yet.")


def _known_chart(view: SuiteView) -> str:
    names = {i: f"#{i} {view.issue_titles.get(i, '')}".strip() for i in view.known_issues}
    series = {names[i]: counts for i, counts in view.known_issues.items()}
    svg = svg_series(view.days, series, title="Known-issue occurrences per day")
    keys = "".join(
        f'<span><i style="background:{colour}"></i>{escape(name)}</span>'
        for name, colour in legend(list(series))
    )
    empty = "" if series else '<p class="muted">No known-issue occurrence in the window.</p>'
    return f'<figure>{svg}<figcaption class="legend">{keys}</figcaption></figure>{empty}'


def _runs(view: SuiteView) -> str:
    rows = []
    for r in view.runs:
        outcomes = ", ".join(f"{escape(k)} {v}" for k, v in sorted(r.counts.items()))
        rows.append(
            [f"{r.started_at:%Y-%m-%d %H:%M}", str(r.tests), outcomes]
            + [str(r.classifications.get(c, 0)) for c in CLASSES]
        )
    return _table(
        ["Started (UTC)", "#Tests", "Outcomes", *[f"#{c}" for c in CLASSES]], rows, "No runs."
    )


def _detail(view: SuiteView) -> str:
    suite = escape(view.objective.suite)
    clusters = [
        [
            str(c.count),
            f"<code>{escape(c.example_nodeid)}</code>",
            escape(": ".join(p for p in (c.exception, c.example_message) if p)[:300]),
        ]
        for c in view.clusters
    ]
    flaky = [[f"<code>{escape(f.nodeid)}</code>", str(f.count)] for f in view.flaky]
    resets = [
        [
            f"{r.at:%Y-%m-%d %H:%M}",
            f"<code>{escape(r.nodeid)}</code>",
            escape(r.reason),
            str(r.streak_before_days),
        ]
        for r in reversed(view.objective.resets[-10:])
    ]
    return "".join(
        [
            f'<section id="known-issues"><h2>Known issues over {len(view.days)} days: {suite}</h2>',
            _known_chart(view),
            "</section>",
            '<section id="pass-rate"><h2>Daily pass rate</h2>',
            svg_rate(view.pass_rate, title="Passed / (passed + failed + errors) per day"),
            "</section>",
            f'<section id="runs"><h2>Recent runs: {suite}</h2>',
            _runs(view),
            "</section>",
            '<div class="grid"><section id="clusters"><h2>Top unknown clusters</h2>',
            _table(["#Failures", "Example", "Exception and message"], clusters, "None."),
            '</section><section id="flaky"><h2>Flaky tests (window)</h2>',
            _table(["Test", "#Flaky failures"], flaky, "None."),
            "</section></div>",
            '<section id="resets"><h2>Streak resets</h2>',
            _table(["At", "Test", "Reason", "#Streak before (days)"], resets, "None."),
            "</section>",
        ]
    )


def render(view: DashboardView, *, generated: str, days: int, min_coverage: float) -> str:
    """Render the dashboard page."""
    selected = view.selected.objective.suite if view.selected else None
    nav = " ".join(
        f'<a href="?suite={escape(quote(s))}"{" aria-current=page" if s == selected else ""}>'
        f"{escape(s)}</a>"
        for s in view.suites
    )
    return _template().substitute(
        css=_css(),
        generated=escape(generated),
        days=days,
        min_coverage=f"{min_coverage:.0%}",
        nav=nav,
        objectives=_objectives(view.objectives),
        detail=_detail(view.selected) if view.selected else "",
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def get_dashboard(
    context: Context, suite: Annotated[str | None, Query(max_length=200)] = None
) -> HTMLResponse:
    """Render the dashboard for one suite (the first one by default)."""
    now = context.clock()
    settings = context.settings
    try:
        view = dashboard(context.reports, suite=suite, now=now, settings=settings)
    except UnknownSuiteError as exc:
        raise ApiError(404, exc.reason, exc.message) from None
    page = render(
        view,
        generated=f"{now:%Y-%m-%d %H:%M %Z}",
        days=settings.objective_days,
        min_coverage=settings.objective_min_coverage,
    )
    return HTMLResponse(page)
