"""The weekly success-metrics report: ISO weeks and its Markdown with a Mermaid chart."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.core.charts import mermaid_pass_rate
from bot.core.clusters import describe
from bot.core.criteria import Status, Verdict, WeekFacts, plural, trend
from bot.core.errors import TriageError
from bot.core.objective import Objective
from bot.core.redact import redact

# Years outside this range are refused: date arithmetic near years 1 and 9999 overflows.
MIN_YEAR, MAX_YEAR = 2000, 9998
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")
_ICONS = {Status.MET: "[x]", Status.NOT_MET: "[ ]", Status.NO_DATA: "[ ]"}


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        """Return the week's first day."""
        return date.fromisocalendar(self.year, self.week, 1)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """Return the week's start (inclusive) and end (exclusive) instants in `tz`."""
        start = datetime.combine(self.monday, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(days=7), datetime.min.time(), tzinfo=tz)
        return start, end

    def previous(self) -> IsoWeek:
        """Return the week before."""
        return IsoWeek.of(self.monday - timedelta(days=7))

    @staticmethod
    def of(day: date) -> IsoWeek:
        """Return the ISO week holding `day`."""
        year, week, _ = day.isocalendar()
        return IsoWeek(year, week)

    @staticmethod
    def parse(text: str) -> IsoWeek:
        """Parse "2026-W47"; raise TriageError("bad_week") otherwise."""
        match = _WEEK.match(text.strip())
        if match is None:
            raise TriageError("bad_week", f"week must look like 2026-W47, not {text!r}")
        year, week = int(match[1]), int(match[2])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise TriageError("bad_week", f"the year of a week must be {MIN_YEAR} to {MAX_YEAR}")
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise TriageError("bad_week", f"{text!r} is not a week of {year}") from None
        return IsoWeek(year, week)


def last_complete_week(now: datetime, tz: tzinfo) -> IsoWeek:
    """Return the latest ISO week that has ended at `now` in `tz`."""
    return IsoWeek.of(now.astimezone(tz).date()).previous()


@dataclass(frozen=True, slots=True)
class ClusterLine:
    fingerprint: str
    count: int
    exception: str | None
    example_nodeid: str
    example_message: str


@dataclass(frozen=True, slots=True)
class FlakyLine:
    nodeid: str
    count: int


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    """Everything the weekly Markdown shows."""

    suite: str
    week: IsoWeek
    facts: WeekFacts
    verdicts: Sequence[Verdict]
    objective: Objective
    new_clusters: Sequence[ClusterLine]
    flaky: Sequence[FlakyLine]
    daily_pass_rate: Sequence[tuple[date, float | None]]
    issue_titles: Mapping[int, str]


def md(text: str, limit: int = 160) -> str:
    """Make user text inert in Markdown: one line, secrets masked, escaped, no mentions."""
    line = " ".join(redact(text).split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    # A zero-width joiner after @ stops GitHub from notifying whoever is named.
    return _MD_SPECIAL.sub(r"\\\1", line).replace("@", "@\u200d")


_SPAN = re.compile(r"(`[^`\n]+`)")


def md_spans(text: str, limit: int = 400) -> str:
    """Like md(), but keep `code spans` as code: GitHub shows escaped backticks literally."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    parts = []
    for part in _SPAN.split(line):
        if _SPAN.fullmatch(part):
            parts.append(code(part[1:-1], limit))
        elif part.strip():
            # md() trims; the spaces around a code span are part of the sentence.
            lead, tail = part[: len(part) - len(part.lstrip())], part[len(part.rstrip()) :]
            parts.append(f"{lead}{md(part, limit)}{tail}")
        else:
            parts.append(part)
    return "".join(parts)


def code(text: str, limit: int = 160) -> str:
    """Render a node id as inline code whatever backticks it holds, secrets masked."""
    line = " ".join(redact(text).split())[:limit].replace("`", "'")
    return f"`{line}`"


def _checklist(verdicts: Sequence[Verdict]) -> list[str]:
    lines = ["## Success criteria", ""]
    for v in verdicts:
        mark = _ICONS[v.status]
        evidence = md_spans(v.evidence, 400)
        # A criterion no test measures: a person checks it on the tracking issue.
        where = " (task list)" if v.criterion.kind == "task" else ""
        lines.append(f"- {mark} **{v.criterion.title}**{where} — {v.status.value}: {evidence}")
    return lines


def _objective(obj: Objective) -> list[str]:
    last = obj.last_regression
    lines = [
        "## 30-day objective: no test-infrastructure regression",
        "",
        f"- Progress: **{obj.progress}** ({'met' if obj.met else 'not met'})",
        f"- Window {obj.window_start} to {obj.window_end}: "
        f"{'clean' if obj.window_clean else 'not clean'}, "
        f"runs on {obj.days_with_runs}/{obj.days} days ({obj.coverage:.0%} coverage)",
    ]
    if 0 < obj.days_before_first_run < obj.days:
        # A new suite: its missing days are days before it existed, not days it failed to run.
        ran_for = obj.days - obj.days_before_first_run
        lines.append(
            f"- The suite has run for {plural(ran_for, 'day')} of the window: its first "
            f"{plural(obj.days_before_first_run, 'day')} came before its first run and count "
            "as days without a run, so the coverage above is not yet a measure of the suite."
        )
    if last is None:
        lines.append("- Last regression: none recorded")
    else:
        lines.append(
            f"- Last regression: {last.at:%Y-%m-%d %H:%M} {code(last.nodeid)} — {md(last.reason)}"
        )
    return lines


def _known(report: WeeklyReport) -> list[str]:
    this, last = report.facts.known_this_week, report.facts.known_last_week
    issues = sorted(set(this) | set(last), key=lambda i: (-this.get(i, 0), i))
    lines = ["## Known issues", ""]
    if not issues:
        return [*lines, "No known-issue occurrences this week or last."]
    lines += ["| Issue | This week | Last week | Trend |", "|---|---:|---:|---|"]
    for issue in issues:
        now, before = this.get(issue, 0), last.get(issue, 0)
        title = report.issue_titles.get(issue, "")
        label = f"#{issue} {md(title, 80)}".strip()
        lines.append(f"| {label} | {now} | {before} | {trend(now, before)} |")
    return lines


def _clusters(clusters: Sequence[ClusterLine]) -> list[str]:
    lines = ["## New clusters (unmatched failures first seen this week)", ""]
    if not clusters:
        return [*lines, "None."]
    lines += ["| Count | Example | Exception and message |", "|---:|---|---|"]
    for c in clusters:
        what = describe(c.exception, c.example_message)
        lines.append(f"| {c.count} | {code(c.example_nodeid, 100)} | {md(what, 120)} |")
    return lines


def _flaky(flaky: Sequence[FlakyLine]) -> list[str]:
    lines = ["## Flaky tests", ""]
    if not flaky:
        return [*lines, "None."]
    return lines + [f"- {code(f.nodeid)}: {plural(f.count, 'flaky failure')}" for f in flaky]


def render_markdown(report: WeeklyReport) -> str:
    """Render the weekly report as GitHub Markdown."""
    met = sum(v.status is Status.MET for v in report.verdicts)
    facts = report.facts
    head = [
        f"# Staging weekly report: {md(report.suite)}, {report.week}",
        "",
        f"{facts.first_day} to {facts.first_day + timedelta(days=6)}: {plural(facts.runs, 'run')}; "
        f"{met}/{len(report.verdicts)} criteria met.",
    ]
    sections = [
        head,
        _checklist(report.verdicts),
        _objective(report.objective),
        _known(report),
        _clusters(report.new_clusters),
        _flaky(report.flaky),
        ["## Daily pass rate", "", mermaid_pass_rate(report.daily_pass_rate)],
    ]
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def report_title(suite: str, week: IsoWeek) -> str:
    """Title of a weekly report filed as its own issue."""
    return f"Staging weekly report: {' '.join(suite.split())[:80]}, {week}"
