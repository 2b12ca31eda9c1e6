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
from bot.core.redact import redact
from bot.services.objective import DashboardView, SuiteView, UnknownSuiteError, dashboard
from bot.services.queries import KnownIssueItem, known_issues
from bot.store.pages import pages_uow
from bot.web.deps import AppContext, Context
from bot.web.errors import ApiError
from bot.web.pages.html import (
    cluster_href,
    criteria_href,
    css,
    issue_href,
    link,
    run_href,
    table,
    test_href,
)

HERE = Path(__file__).resolve().parent
CLASSES = ("known", "recurred", "flaky", "new", "persistent")

router = APIRouter()


@cache
def _template() -> Template:
    return Template((HERE / "templates" / "dashboard.html").read_text(encoding="utf-8"))


def _test(suite: str, nodeid: str) -> str:
    return link(test_href(suite, nodeid), f"<code>{escape(nodeid)}</code>")


def _verdict(ok: bool, yes: str = "met", no: str = "not met") -> str:
    return f'<span class="met">{yes}</span>' if ok else f'<span class="unmet">{no}</span>'


def _objectives(objectives: list[Objective]) -> str:
    rows = []
    for o in objectives:
        last = o.last_regression
        what = (
            f"{last.at:%Y-%m-%d %H:%M} {_test(o.suite, last.nodeid)}<br>"
            + escape(redact(last.reason))
            if last
            else '<span class="muted">none</span>'
        )
        rows.append(
            [
                f'<a href="?suite={escape(quote(o.suite))}">{escape(o.suite)}</a>',
                f"{o.streak_days} days ({escape(o.progress)})",
                _verdict(o.window_clean, "clean", "not clean"),
                f"{o.coverage:.0%} ({o.days_with_runs}/{o.days} days)",
                _verdict(o.met) + " " + link(criteria_href(o.suite), "criteria"),
                what,
            ]
        )
    head = ["Suite", "Streak", "Window", "Coverage", "Objective", "Last regression"]
    return table(head, rows, "No run ingested yet.")


def _known_chart(view: SuiteView, kb_titles: dict[int, str]) -> str:
    def title(i: int) -> str:
        return view.issue_titles.get(i) or kb_titles.get(i, "")

    names = {i: f"#{i} {title(i)}".strip() for i in view.known_issues}
    series = {names[i]: counts for i, counts in view.known_issues.items()}
    svg = svg_series(view.days, series, title="Known-issue occurrences per day")
    hrefs = {names[i]: issue_href(i) for i in view.known_issues}
    keys = "".join(
        f'<span><i style="background:{colour}"></i>{link(hrefs[name], escape(name))}</span>'
        for name, colour in legend(list(series))
    )
    empty = "" if series else '<p class="muted">No known-issue occurrence in the window.</p>'
    return f'<figure>{svg}<figcaption class="legend">{keys}</figcaption></figure>{empty}'


def _runs(view: SuiteView) -> str:
    rows = []
    for r in view.runs:
        outcomes = ", ".join(f"{escape(k)} {v}" for k, v in sorted(r.counts.items()))
        rows.append(
            [link(run_href(r.id), f"{r.started_at:%Y-%m-%d %H:%M}"), str(r.tests), outcomes]
            + [str(r.classifications.get(c, 0)) for c in CLASSES]
        )
    return table(
        ["Started (UTC)", "#Tests", "Outcomes", *[f"#{c}" for c in CLASSES]], rows, "No runs."
    )


def _detail(view: SuiteView, kb_titles: dict[int, str], issues: str) -> str:
    suite = view.objective.suite
    clusters = [
        [
            link(cluster_href(c.fingerprint), str(c.count)),
            _test(suite, c.example_nodeid),
            escape(": ".join(p for p in (c.exception, c.example_message) if p)[:300]),
        ]
        for c in view.clusters
    ]
    flaky = [[_test(suite, f.nodeid), str(f.count)] for f in view.flaky]
    resets = [
        [
            f"{r.at:%Y-%m-%d %H:%M}",
            _test(suite, r.nodeid),
            escape(r.reason),
            str(r.streak_before_days),
        ]
        for r in reversed(view.objective.resets[-10:])
    ]
    return "".join(
        [
            f'<section id="known-issues"><h2>Known issues over {len(view.days)} days: '
            f"{escape(suite)}</h2>",
            _known_chart(view, kb_titles),
            "</section>",
            issues,
            '<section id="pass-rate"><h2>Daily pass rate</h2>',
            "<figure>",
            svg_rate(view.pass_rate, title="Passed / (passed + failed + errors) per day"),
            "</figure>",
            "</section>",
            f'<section id="runs"><h2>Recent runs: {escape(suite)}</h2>',
            _runs(view),
            "</section>",
            '<div class="grid"><section id="clusters"><h2>Top unknown clusters</h2>',
            table(["#Failures", "Example", "Exception and message"], clusters, "None."),
            '</section><section id="flaky"><h2>Flaky tests (window)</h2>',
            table(["Test", "#Flaky failures"], flaky, "None."),
            "</section></div>",
            '<section id="resets"><h2>Streak resets</h2>',
            table(["At", "Test", "Reason", "#Streak before (days)"], resets, "None."),
            "</section>",
        ]
    )


def _precision(item: KnownIssueItem) -> str:
    parts = [
        f"<code>{escape(r.rule.partition('#')[2] or r.rule)}</code> {r.matches}"
        + (f" ({r.precision:.0%})" if r.precision is not None else "")
        for r in item.rules
    ]
    return "<br>".join(parts)


def _issues(items: list[KnownIssueItem]) -> str:
    rows = [
        [
            link(issue_href(i.number), f"#{i.number}"),
            escape(i.title),
            escape(i.state or "unknown"),
            escape(i.category or ""),
            str(i.occurrences),
            f"{i.last_seen:%Y-%m-%d}" if i.last_seen else '<span class="muted">never</span>',
            _precision(i),
        ]
        for i in items
    ]
    head = ["Issue", "Title", "GitHub", "Category", "#Occurrences", "Last seen",
            "Rules: matches (precision)"]  # fmt: skip
    return table(head, rows, "No known issue.")


def render(
    view: DashboardView,
    *,
    issues: list[KnownIssueItem],
    generated: str,
    days: int,
    min_coverage: float,
) -> str:
    """Render the dashboard page."""
    issue_table = f'<section id="issue-table"><h2>Known issues</h2>{_issues(issues)}</section>'
    selected = view.selected.objective.suite if view.selected else None
    nav = " ".join(
        f'<a href="?suite={escape(quote(s))}"{" aria-current=page" if s == selected else ""}>'
        f"{escape(s)}</a>"
        for s in view.suites
    )
    return _template().substitute(
        css=css(),
        generated=escape(generated),
        days=days,
        min_coverage=f"{min_coverage:.0%}",
        nav=nav,
        objectives=_objectives(view.objectives),
        detail=_detail(view.selected, {i.number: i.title for i in issues}, issue_table)
        if view.selected
        else issue_table,
    )


def _known_issues(context: AppContext) -> list[KnownIssueItem]:
    with pages_uow(context.engine) as uow:
        return known_issues(uow, context.kb)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def get_dashboard(
    context: Context, suite: Annotated[str | None, Query(max_length=200)] = None
) -> HTMLResponse:
    """Render the dashboard for one suite (the first one by default)."""
    now = context.clock()
    settings = context.settings
    try:
        view = dashboard(context.reports, suite=suite, now=now, config=context.report_config)
    except UnknownSuiteError as exc:
        raise ApiError(404, exc.reason, exc.message) from None
    page = render(
        view,
        issues=_known_issues(context),
        generated=f"{now:%Y-%m-%d %H:%M %Z}",
        days=settings.objective_days,
        min_coverage=settings.objective_min_coverage,
    )
    return HTMLResponse(page)
