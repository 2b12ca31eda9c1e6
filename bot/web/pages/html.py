"""Shared pieces of the server-rendered pages: the shell, tables, links; all text escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import quote, urlencode

from fastapi.responses import HTMLResponse

from bot.config import Settings
from bot.ports.store import FailureRecord

WEB = Path(__file__).resolve().parent.parent


@cache
def _template(name: str) -> Template:
    return Template((WEB / "templates" / name).read_text(encoding="utf-8"))


@cache
def css() -> str:
    """Return the dashboard's style sheet (inlined: the pages need no other request)."""
    return (WEB / "static" / "dashboard.css").read_text(encoding="utf-8")


def page(title: str, body: str, *, lead: str = "") -> HTMLResponse:
    """Wrap a page body in the shared shell; `title` is plain text, `lead` and `body` HTML."""
    html = _template("page.html").substitute(
        title=escape(title), heading=escape(title), lead=lead, body=body, css=css()
    )
    return HTMLResponse(html)


def table(head: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """Render an HTML table (cells are HTML); a heading starting with # is a number column."""
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    ths = "".join(
        f"<th{' class=num' if h.startswith('#') else ''}>{escape(h.lstrip('#'))}</th>" for h in head
    )
    # data-label lets a narrow screen show each row as a card of labelled cells (see the CSS).
    labels = [f' data-label="{escape(h.lstrip("#"))}"' for h in head]
    trs = "".join(
        "<tr>"
        + "".join(f"<td{label}><div>{c}</div></td>" for label, c in zip(labels, row, strict=True))
        + "</tr>"
        for row in rows
    )
    grid = f"<table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table>"
    return f'<div class="scroll">{grid}</div>'  # wide tables scroll inside a narrow screen


def section(anchor: str, heading: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(heading)}</h2>{content}</section>'


def facts(pairs: Sequence[tuple[str, str]]) -> str:
    """Render label/value pairs (values are HTML)."""
    items = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in pairs)
    return f'<dl class="facts">{items}</dl>'


def muted(text: str) -> str:
    return f'<span class="muted">{escape(text)}</span>'


def link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{text}</a>'


def when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else '<span class="muted">never</span>'


def run_href(run_id: int) -> str:
    return f"/runs/{run_id}"


def issue_href(number: int) -> str:
    return f"/issues/{number}"


def cluster_href(fingerprint: str) -> str:
    return f"/clusters/{quote(fingerprint, safe='')}"


def test_href(suite: str, nodeid: str) -> str:
    return "/tests?" + urlencode({"suite": suite, "nodeid": nodeid})


def criteria_href(suite: str) -> str:
    return "/criteria?" + urlencode({"suite": suite})


def github_web(settings: Settings) -> str | None:
    """Return the web address of the configured repository, None without one."""
    if not settings.github_repository:
        return None
    api = settings.github_api_url.rstrip("/")
    host = "https://github.com" if api == "https://api.github.com" else api.removesuffix("/api/v3")
    return f"{host}/{settings.github_repository}"


def issue_cell(number: int | None, titles: dict[int, str]) -> str:
    """Link an issue number to its page, with its title."""
    if number is None:
        return '<span class="muted">none</span>'
    title = titles.get(number, "")
    return link(issue_href(number), f"#{number}") + (f" {escape(title)}" if title else "")


def failure_row(f: FailureRecord, titles: dict[int, str], excerpt: str) -> list[str]:
    """Render the cells every failure table shares, after the test and run columns."""
    return [
        escape(f.phase),
        issue_cell(f.known_issue, titles),
        f"<code>{escape(f.rule)}</code>" if f.rule else '<span class="muted">none</span>',
        escape(f.classification),
        escape(f.category),
        escape(excerpt),
        link(cluster_href(f.fingerprint), f"<code>{escape(f.fingerprint)}</code>")
        # Only unmatched failures form clusters; a flaky pass has no fingerprint of its own.
        if f.known_issue is None and f.fingerprint and f.outcome != "flaky"
        else f"<code>{escape(f.fingerprint)}</code>",
    ]


FAILURE_HEAD = [
    "Phase",
    "Known issue",
    "Rule",
    "Classification",
    "Category",
    "Error",
    "Fingerprint",
]
