"""The success-criteria page: each criterion's verdict and evidence for one week of a suite."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse

from bot.core.criteria import Verdict
from bot.core.weekly import IsoWeek
from bot.web.pages.html import link, page, section, table

STATUS_CLASS = {"met": "met", "not met": "unmet"}
# Criteria no test measures: a person checks them on the tracking issue's task list.
TASK_NOTE = ' <span class="muted">(task list of the tracking issue)</span>'


def _week_href(suite: str, week: IsoWeek) -> str:
    return "/criteria?" + urlencode({"suite": suite, "week": str(week)})


def render_criteria(
    suites: list[str], suite: str | None, week: IsoWeek, current: IsoWeek, verdicts: list[Verdict]
) -> HTMLResponse:
    """Render the verdicts of one suite's week, with links to the other suites and weeks."""
    if suite is None:
        return page("Success criteria", '<p class="muted">No run ingested yet.</p>')
    nav = " ".join(
        link(_week_href(s, week), escape(s)) if s != suite else f"<strong>{escape(s)}</strong>"
        for s in suites
    )
    weeks = link(_week_href(suite, week.previous()), f"previous week ({week.previous()})")
    if str(week) != str(current):
        weeks += ", " + link(_week_href(suite, current), f"this week so far ({current})")
    rows = [
        [
            escape(v.criterion.title) + (TASK_NOTE if v.criterion.kind == "task" else ""),
            f'<span class="{STATUS_CLASS.get(v.status.value, "muted")}">'
            f"{escape(v.status.value)}</span>",
            escape(v.evidence),
        ]
        for v in verdicts
    ]
    body = section(
        "criteria",
        f"{suite}, week {week}",
        f"<p>Suites: {nav}. {weeks}.</p>"
        + table(["Criterion", "Status", "Evidence"], rows, "No criterion configured."),
    )
    return page("Success criteria", body)
