"""The run page: every failure of one run with its issue, rule, classification and excerpt."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from bot.config import Settings
from bot.services.pages import RunPageView, excerpt
from bot.services.verdict import RunJudgement
from bot.web.pages.html import (
    FAILURE_HEAD,
    facts,
    failure_row,
    github_web,
    link,
    page,
    section,
    table,
    test_href,
    when,
)
from bot.web.routers.verdict import compare_url


def _meta(view: RunPageView, settings: Settings) -> str:
    run = view.record.run
    repo = github_web(settings)
    commit = '<span class="muted">unknown</span>'
    if run.commit:
        commit = f"<code>{escape(run.commit)}</code>"
        commit = link(f"{repo}/commit/{run.commit}", commit) if repo else commit
    ci = link(run.ci_url, escape(run.ci_url)) if run.ci_url else '<span class="muted">none</span>'
    outcomes = ", ".join(f"{escape(k)} {v}" for k, v in sorted(run.counts.items()))
    return facts(
        [
            ("Suite", escape(run.suite)),
            ("Environment", escape(run.environment) or '<span class="muted">none</span>'),
            ("Started (UTC)", when(run.started_at)),
            ("Branch", escape(run.branch or "") or '<span class="muted">unknown</span>'),
            ("Commit", commit),
            ("CI", ci),
            ("Tests", f"{run.tests} ({outcomes})"),
            ("Report", f"{escape(run.format)} via {escape(run.source)}"),
        ]
    )


def _verdict(judgement: RunJudgement, settings: Settings) -> str:
    """The deploy gate's verdict, and where each new failure started."""
    repo = github_web(settings)
    items = []
    for s in judgement.suspects:
        passed = f"run {s.last_passed_run}" if s.last_passed_run else "no passing run on record"
        span = f"{passed} \u2192 run {s.first_failed_run}"
        compare = compare_url(repo, s)
        if compare:
            commits = f"{s.last_passed_commit}...{s.first_failed_commit}"
            span += " " + link(compare, f"<code>{escape(commits)}</code>")
        items.append(f"<li><code>{escape(s.nodeid)}</code>: {span}</li>")
    suspects = f"<p>Suspect ranges:</p><ul>{''.join(items)}</ul>" if items else ""
    v = judgement.verdict
    return (
        f'<p><strong class="verdict-{v.status.value}">{escape(v.status.value)}</strong>: '
        f"{escape(v.title)}</p>{suspects}"
    )


def render_run(view: RunPageView, settings: Settings, judgement: RunJudgement) -> HTMLResponse:
    """Render one run and its failures."""
    run = view.record.run
    rows = [
        [
            link(test_href(run.suite, f.nodeid), f"<code>{escape(f.nodeid)}</code>"),
            *failure_row(f, view.titles, excerpt(f)),
        ]
        for f in view.failures
    ]
    more = (
        f'<p class="muted">{view.more} more failures are left off this page; '
        f"GET /api/v1/runs/{view.record.id} lists them all.</p>"
        if view.more
        else ""
    )
    body = (
        section("meta", "Run", _meta(view, settings))
        + section("verdict", "Verdict", _verdict(judgement, settings))
    ) + section(
        "failures",
        f"Failures ({len(view.failures) + view.more})",
        table(["Test", *FAILURE_HEAD], rows, "No failure in this run.") + more,
    )
    return page(f"Run {view.record.id}: {run.suite}", body)
