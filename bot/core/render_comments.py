"""Text of the bot's comments: occurrence summary, run tables, sparkline, GitHub's length cap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from bot.core.commit_verdict import suspect_text
from bot.core.criteria import noun, plural
from bot.core.gate import SuspectRange
from bot.core.redact import redact
from bot.core.weekly import code, md

GITHUB_BODY_MAX = 65_536
# Room kept for the hidden marker the sender appends and a margin for safety.
BODY_MAX = GITHUB_BODY_MAX - 512
SPARK = "▁▂▃▄▅▆▇█"
TESTS_PER_ROW = 5
NAME_MAX = 200
EXCERPT_MAX = 120


@dataclass(frozen=True, slots=True)
class RunRef:
    """One run in which an issue occurred."""

    run_id: int
    started_at: datetime
    url: str | None
    branch: str | None
    commit: str | None
    failing_tests: tuple[str, ...]
    excerpt: str = ""  # the first failure's exception and message, not yet masked
    rule: str | None = None  # the rule that linked the run's first failure to the issue
    classification: str = ""  # that failure's classification (known, recurred, ...)


@dataclass(frozen=True, slots=True)
class IssueActivity:
    """What the history says of one known issue, as the comment policy needs it."""

    issue: int
    state: str  # open, closed or unknown
    occurrences: int  # failures linked to the issue, all time
    runs: int  # runs with at least one such failure
    first_seen: datetime
    last_seen: datetime
    previous_seen: datetime | None  # the last occurrence before the run being planned
    daily: tuple[tuple[date, int], ...]  # failures per UTC day, any order, recent days only
    latest_runs: tuple[RunRef, ...]  # newest first
    events_today: int = 0  # event comments already planned for the run's own day
    last_event_at: datetime | None = None
    state_since: datetime | None = None  # when the issue's state last changed, if known
    # The newest occurrence in another run started after the run being planned: set, the run
    # is a backfill or a late upload and only the occurrence comment is updated.
    later_seen: datetime | None = None
    # Days (before the run's day, in the spike window) on which the run's suite ran at all:
    # the spike baseline; days before the suite's first run are not zeros.
    run_days: tuple[date, ...] = ()
    # The newest run of the suites the issue occurred in: staleness is judged on it.
    suite_last_run: datetime | None = None
    at: datetime | None = None  # the planned run's own start, when a run is planned


def sparkline(counts: Sequence[int]) -> str:
    """Draw counts as block characters; a day without occurrences is a dot."""
    top = max(counts, default=0)
    if top <= 0:
        return "·" * len(counts)
    return "".join(
        "·" if c <= 0 else SPARK[min(len(SPARK) - 1, (c * len(SPARK) - 1) // top)] for c in counts
    )


def daily_series(activity: IssueActivity, today: date, days: int = 30) -> list[int]:
    """Return failures per day for the `days` days ending today, oldest first."""
    by_day = dict(activity.daily)
    return [by_day.get(today - timedelta(days=back), 0) for back in range(days - 1, -1, -1)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def is_http_url(url: str) -> bool:
    """Tell whether `url` is an absolute http(s) URL with a host and no whitespace."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and not any(c.isspace() for c in url)


def _link(run: RunRef) -> str:
    """Link the run to its CI page only when that is an http(s) URL; never show credentials."""
    if not run.url or not is_http_url(run.url):
        return f"#{run.run_id}"
    target = redact(run.url).replace("(", "%28").replace(")", "%29").replace("|", "%7C")
    return f"[#{run.run_id}]({target})"


def _tests_cell(tests: Sequence[str]) -> str:
    shown = [_cell(code(t, NAME_MAX)) for t in tests[:TESTS_PER_ROW]]
    if len(tests) > TESTS_PER_ROW:
        shown.append(f"+{len(tests) - TESTS_PER_ROW} more")
    return "<br>".join(shown)


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    """Return a short one-line error excerpt as inline code, secrets masked, bounded."""
    line = " ".join(redact(text[: limit * 4]).split())
    if not line:
        return "—"
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return _cell(code(line, limit))


def _why(run: RunRef) -> str:
    rule = _cell(code(run.rule, NAME_MAX)) if run.rule else "link"
    return f"{rule}<br>{run.classification}" if run.classification else rule


def run_row(run: RunRef, same_tests: int | None = None, same_error: int | None = None) -> str:
    """Render one table row: date, run, branch and commit, failing tests, rule, error.

    `same_tests` and `same_error` name an earlier listed run with the same failing tests or
    the same error excerpt, referred to instead of repeating them.
    """
    when = run.started_at.strftime("%Y-%m-%d %H:%M")
    branch = md(run.branch, NAME_MAX) if run.branch else "?"
    commit = _cell(code(run.commit, 10)) if run.commit else "?"
    tests = f"same tests as run #{same_tests}" if same_tests else _tests_cell(run.failing_tests)
    error = f"same as run #{same_error}" if same_error else excerpt(run.excerpt)
    return f"| {when} | {_link(run)} | {branch} @ {commit} | {tests} | {_why(run)} | {error} |"


def run_rows(runs: Sequence[RunRef]) -> list[str]:
    """Render runs newest first; tests or an error shown in a listed row are not repeated."""
    tests: dict[tuple[str, ...], int] = {}
    errors: dict[str, int] = {}
    rows = []
    for run in runs:
        rows.append(run_row(run, tests.get(run.failing_tests), errors.get(run.excerpt)))
        tests.setdefault(run.failing_tests, run.run_id)
        if run.excerpt:
            errors.setdefault(run.excerpt, run.run_id)
    return rows


def occurrence_comment(
    activity: IssueActivity, *, today: date, notes: Sequence[str] = (), limit: int = BODY_MAX
) -> str:
    """Render the one occurrence comment of an issue, cut to fit GitHub's limit."""
    series = daily_series(activity, today)
    head = [
        "### Occurrences seen by triage-bot",
        "",
        f"**{activity.occurrences}** {noun(activity.occurrences, 'failure')} in "
        f"**{activity.runs}** {noun(activity.runs, 'run')}, "
        f"first seen {activity.first_seen:%Y-%m-%d}, "
        f"last seen {activity.last_seen:%Y-%m-%d %H:%M} UTC.",
        "",
        f"Last 30 days: `{sparkline(series)}` ({plural(sum(series), 'failure')})",
    ]
    head += [""] + [f"> {note}" for note in notes] if notes else []
    rows = run_rows(activity.latest_runs)
    return fit_table(head, rows, limit=limit)


TABLE_HEAD = (
    "| Date (UTC) | Run | Branch @ commit | Failing tests | Rule, classification | Error |",
    "|---|---|---|---|---|---|",
)


def fit_table(head: Sequence[str], rows: Sequence[str], *, limit: int = BODY_MAX) -> str:
    """Join head and table, dropping the oldest rows (and saying so) until it fits."""
    keep = len(rows)
    while True:
        lines = [*head, "", "Latest runs:", "", *TABLE_HEAD, *rows[:keep]] if keep else [*head]
        if keep < len(rows):
            lines += [
                "",
                f"_{plural(len(rows) - keep, 'older run')} not shown: "
                "GitHub's comment size limit._",
            ]
        body = "\n".join(lines)
        if len(body) <= limit:
            return body
        if keep == 0:
            return body[: limit - 40] + "\n\n_(cut: GitHub's comment size limit)_"
        keep = max(0, min(keep - 1, keep * limit // len(body)))


def event_comment(activity: IssueActivity, kind: str, run: RunRef | None, detail: str) -> str:
    """Render a short comment announcing an event: first, quiet, recurred, spike, stale."""
    titles = {
        "first": "First occurrence seen by triage-bot",
        "quiet": "Seen again after a quiet period",
        "recurred": "Seen again although this issue is closed",
        "spike": "Spike in occurrences",
        "stale": "No occurrence for a while: maybe fixed?",
    }
    lines = [f"### {titles.get(kind, kind)}", "", detail]
    if run is not None:
        lines += ["", *TABLE_HEAD, run_row(run)]
    return fit_table(lines, [])


SUSPECTS_LISTED = 10  # tests of one cluster given a suspect range in a filed issue


def suspect_section(suspects: Sequence[SuspectRange], web: str | None) -> list[str]:
    """Render where each failing test of a new issue started: last pass, first failure, compare."""
    if not suspects:
        return []
    lines = ["Where it started (suspect range of each failing test in the newest run):", ""]
    lines += [
        f"- {code(s.nodeid, NAME_MAX)}: {suspect_text(s, web)}" for s in suspects[:SUSPECTS_LISTED]
    ]
    if len(suspects) > SUSPECTS_LISTED:
        lines.append(f"- _{plural(len(suspects) - SUSPECTS_LISTED, 'more test')}_")
    return [*lines, ""]
