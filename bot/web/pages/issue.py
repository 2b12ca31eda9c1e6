"""The known-issue page: GitHub state, daily occurrences, rules with precision, tests it hits."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from bot.config import Settings
from bot.core.charts import svg_series
from bot.services.pages import IssuePageView
from bot.web.pages.html import (
    facts,
    github_web,
    link,
    muted,
    page,
    section,
    table,
    test_href,
    when,
)


def _state(view: IssuePageView, settings: Settings) -> str:
    item = view.item
    repo = github_web(settings)
    state = escape(item.state) if item.state else muted("not told yet")
    if view.state_reason:
        state += f" ({escape(view.state_reason)})"
    url = f"{repo}/issues/{item.number}" if repo else None
    comment = muted("none written yet")
    if view.sticky_comment is not None:
        comment = (
            link(f"{url}#issuecomment-{view.sticky_comment}", f"comment {view.sticky_comment}")
            if url
            else f"comment {view.sticky_comment}"
        )
    return facts(
        [
            ("GitHub", link(url, escape(url)) if url else muted("no repository set")),
            ("State", state),
            ("Category", escape(item.category or "") or muted("not in the knowledge base")),
            ("Occurrences", f"{item.occurrences} in {item.runs} runs"),
            ("Last seen", when(item.last_seen)),
            ("Bot's comment", comment),
        ]
    )  # fmt: skip


def _rules(view: IssuePageView) -> str:
    rows = [
        [
            f"<code>{escape(r.rule)}</code>",
            str(r.matches),
            str(r.wrong),
            f"{r.precision:.0%}" if r.precision is not None else muted("no match"),
        ]
        for r in view.item.rules
    ]  # fmt: skip
    return table(["Rule", "#Matches", "#Marked wrong", "Precision"], rows, "No rule.")


def render_issue(view: IssuePageView, settings: Settings) -> HTMLResponse:
    """Render one known issue."""
    number = view.item.number
    chart = svg_series(
        view.days, {f"#{number}": view.daily}, title=f"Occurrences per day, {len(view.days)} days"
    )
    tests = [
        [
            escape(suite),
            link(test_href(suite, nodeid), f"<code>{escape(nodeid)}</code>"),
            str(count),
            when(last),
        ]
        for suite, nodeid, count, last in view.tests
    ]
    body = "".join(
        [
            section("state", "State", _state(view, settings)),
            section("occurrences", "Occurrences", f"<figure>{chart}</figure>"),
            section("rules", "Rules", _rules(view)),
            section(
                "tests",
                "Tests it hits",
                table(["Suite", "Test", "#Occurrences", "Last seen"], tests, "No occurrence yet."),
            ),
        ]
    )
    title = f"#{number} {view.item.title}".strip()
    return page(title, body)
