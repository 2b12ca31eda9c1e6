"""The test page: pass/fail strip of its recent runs, flakiness, failures and linked issues."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from bot.core.charts import svg_strip
from bot.services.pages import TestPageView, excerpt
from bot.web.pages.html import (
    facts,
    failure_row,
    issue_cell,
    link,
    page,
    run_href,
    section,
    table,
    when,
)


def _environments(view: TestPageView) -> str:
    if not view.states:
        return '<p class="muted">No per-run history stored for this test.</p>'
    parts = []
    for env, state, flaky in view.states:
        share = f"{flaky.flaky / flaky.runs:.0%}" if flaky.runs else "0%"
        strip = svg_strip(
            state.history, title=f"Last {flaky.runs} runs in {env or 'no environment'}"
        )
        parts.append(
            f"<h3>{escape(env) or 'No environment'}</h3><figure>{strip}</figure>"
            + facts(
                [
                    (
                        "Last outcome",
                        f"{escape(state.last_outcome)} in run "
                        + link(run_href(state.last_run_id), str(state.last_run_id)),
                    ),
                    ("Last passed", when(state.last_passed_at)),
                    ("Last failed", when(state.last_failed_at)),
                    (
                        "Flakiness",
                        f"passed on a rerun in {flaky.flaky} of {flaky.runs} runs "
                        f"({share}); flipped between passing and failing {flaky.changes} times",
                    ),
                ]
            )
        )
    legend = (
        '<p class="legend"><span><i style="background:#1a7f37"></i>passed</span>'
        '<span><i style="background:#cf222e"></i>failed</span>'
        '<span><i style="background:#E69F00"></i>flaky</span>'
        '<span><i style="background:#8c959f"></i>other</span></p>'
    )
    return legend + "".join(parts)


def render_test(view: TestPageView) -> HTMLResponse:
    """Render one test of one suite."""
    titles = {n: t for n, t, _ in view.issues}
    failures = [
        [
            link(run_href(f.run_id), str(f.run_id)),
            when(f.started_at),
            *failure_row(f, titles, excerpt(f)),
        ]
        for f in view.failures
    ]
    issues = [[issue_cell(n, titles), str(c)] for n, _, c in view.issues]
    body = "".join(
        [
            section("history", "Recent runs", _environments(view)),
            section("issues", "Linked issues", table(["Known issue", "#Failures"], issues, "None")),
            section(
                "failures",
                f"Latest failures ({len(view.failures)})",
                table(
                    ["Run", "Started (UTC)", "Phase", "Known issue", "Rule", "Classification",
                     "Category", "Error", "Fingerprint"],
                    failures,
                    "No stored failure.",
                ),
            ),
        ]
    )  # fmt: skip
    lead = f'<p class="muted">Suite {escape(view.suite)}</p>'
    return page(view.nodeid, body, lead=lead)
