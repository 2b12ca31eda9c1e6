"""The cluster page: examples, the suggested knowledge file, what it would match in history."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from bot.services.cluster_page import REPLAY, ClusterPageView
from bot.services.pages import excerpt
from bot.web.pages.html import (
    facts,
    issue_cell,
    issue_href,
    link,
    page,
    run_href,
    section,
    table,
    test_href,
    when,
)


def _examples(view: ClusterPageView) -> str:
    rows = [
        [
            link(run_href(f.run_id), str(f.run_id)),
            when(f.started_at),
            link(test_href(f.suite, f.nodeid), f"<code>{escape(f.nodeid)}</code>"),
            escape(f.phase),
            escape(excerpt(f)),
        ]
        for f in view.examples
    ]
    return table(["Run", "Started (UTC)", "Test", "Phase", "Error"], rows, "No stored example.")


def _replay(view: ClusterPageView) -> str:
    r = view.replay
    if r.problem:
        return (
            f'<p class="unmet">The suggested file does not load:</p><pre>{escape(r.problem)}</pre>'
        )
    summary = (
        f"<p>Of the newest {r.tried} stored failures (at most {REPLAY}), the rule matches "
        f"<strong>{r.matched}</strong> with {r.fingerprints} fingerprints; "
        f"{r.already_known} of them another known issue matches today.</p>"
    )
    rows = [
        [
            link(run_href(f.run_id), str(f.run_id)),
            link(test_href(f.suite, f.nodeid), f"<code>{escape(f.nodeid)}</code>"),
            issue_cell(f.known_issue, {}),
            escape(excerpt(f)),
        ]
        for f in r.examples
    ]
    return summary + table(["Run", "Test", "Matched today", "Error"], rows, "No match.")


def render_cluster(view: ClusterPageView) -> HTMLResponse:
    """Render one cluster of unmatched failures."""
    c = view.cluster
    filed = (
        link(issue_href(view.issue), f"#{view.issue}")
        if view.issue
        else '<span class="muted">none yet</span>'
    )
    info = facts(
        [
            ("Suite", escape(c.suite)),
            ("Failures", f"{c.count} in {c.runs} runs"),
            ("First seen", when(c.first_seen)),
            ("Last seen", when(c.last_seen)),
            ("Exception", f"<code>{escape(c.exception or 'none')}</code>"),
            ("Issue opened", filed),
        ]
    )
    rule = (
        f"<p>Save as <code>knowledge/{escape(view.file_name)}</code>, check it with "
        "<code>triage-bot kb validate knowledge</code>, and open a pull request.</p>"
        f"<pre>{escape(view.knowledge_file)}</pre>"
    )
    body = "".join(
        [
            section("cluster", "Cluster", info),
            section("examples", "Examples", _examples(view)),
            section("rule", "Suggested knowledge file", rule),
            section("would-match", "What the rule would match", _replay(view)),
        ]
    )
    return page(f"Cluster {c.fingerprint}", body)
