"""Decide which comments a run deserves: one edited summary per issue, new comments on events."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.clusters import ClusterSummary, strip_exception
from bot.core.commit_verdict import VerdictTarget
from bot.core.criteria import plural
from bot.core.gate import SuspectRange
from bot.core.intents import CreateIssue, Intent, PostComment, SetIssueState, UpsertComment
from bot.core.redact import redact
from bot.core.render_comments import (
    IssueActivity,
    event_comment,
    occurrence_comment,
    suspect_section,
)
from bot.core.weekly import code

_BACKTICKS = re.compile(r"`+")

OCCURRENCES = "occurrences"
SPIKE_WINDOW_DAYS = 14
SPIKE_MIN_COUNT = 3  # below this a day is never a spike, whatever the mean
SPIKE_MIN_RUN_DAYS = 7  # days the suite ran, in the window, before any spike is judged
# A run that reaches the service later than this after it started (a backfill, a CI upload
# days late) is history: it updates the occurrence comment but posts no event comment.
LIVE_WINDOW = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Comment policy knobs; defaults come from settings, some are overridden per issue."""

    quiet_days: int = 7
    daily_budget: int = 3
    spike_factor: float = 3.0
    reopen_on_recurrence: bool = False
    stale_issue_days: int = 14
    file_new_issues: bool = False
    new_issue_min_runs: int = 3
    # Show each run's verdict on its commit (a check run or a status); None: off.
    commit_verdict: VerdictTarget | None = None
    repository_web: str | None = None  # the repository's web address, for compare links

    def for_issue(self, overrides: Mapping[str, object]) -> PolicyConfig:
        """Apply a known issue's [comments] overrides."""
        changes: dict[str, object] = {}
        for name in ("quiet_days", "daily_budget"):
            value = overrides.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                changes[name] = value
        reopen = overrides.get("reopen_on_recurrence")
        if isinstance(reopen, bool):
            changes["reopen_on_recurrence"] = reopen
        return replace(self, **changes)  # type: ignore[arg-type]


def event_for(
    activity: IssueActivity, config: PolicyConfig, at: datetime
) -> tuple[str, str] | None:
    """Name the event a run started at `at` is for the issue, if any, with a sentence why.

    Judged on the runs' own times, never the wall clock: a run older than the issue's newest
    occurrence (a backfill, a late upload) is no event at all.
    """
    if activity.later_seen is not None and activity.later_seen > at:
        return None
    if activity.state == "closed":
        return _recurrence(activity, at)
    if activity.previous_seen is None:
        return "first", f"First failure linked to #{activity.issue}."
    quiet = at - activity.previous_seen
    if quiet >= timedelta(days=config.quiet_days):
        return "quiet", f"Back after {quiet.days} days without an occurrence."
    return _spike(activity, config, at)


def _recurrence(activity: IssueActivity, at: datetime) -> tuple[str, str] | None:
    since, seen = activity.state_since, activity.previous_seen
    if since is not None and at < since:  # the run predates the closing
        return None
    if since is None or seen is None or seen < since:  # first time since it was closed
        return "recurred", "The issue is closed, but its failure came back."
    return None


def _spike(activity: IssueActivity, config: PolicyConfig, at: datetime) -> tuple[str, str] | None:
    """A spike is measured against days on which the suite ran, once there are enough of them."""
    day = at.date()
    baseline = sorted(d for d in activity.run_days if day - d <= timedelta(days=SPIKE_WINDOW_DAYS))
    baseline = [d for d in baseline if d < day]
    if len(baseline) < SPIKE_MIN_RUN_DAYS:
        return None
    by_day = dict(activity.daily)
    today = by_day.get(day, 0)
    mean = sum(by_day.get(d, 0) for d in baseline) / len(baseline)
    if today >= SPIKE_MIN_COUNT and today > config.spike_factor * mean:
        return "spike", (
            f"{plural(today, 'failure')} on {day}, against {mean:.1f} a day "
            f"over the previous {len(baseline)} days the suite ran."
        )
    return None


def is_history(at: datetime, now: datetime) -> bool:
    """A run that started long before it reached us is history: it updates, it never announces."""
    return now - at > LIVE_WINDOW


def plan_run(
    activities: Sequence[IssueActivity],
    *,
    run_id: int,
    now: datetime,
    config: PolicyConfig,
    overrides: Mapping[int, Mapping[str, object]] | None = None,
    at: datetime | None = None,
) -> list[Intent]:
    """Plan the comments for every known issue matched in a run started at `at`."""
    intents: list[Intent] = []
    for activity in activities:
        issue_config = config.for_issue((overrides or {}).get(activity.issue, {}))
        when = at or activity.at or now  # the run's own start, as the history knows it
        intents += _plan_issue(activity, run_id=run_id, now=now, at=when, config=issue_config)
    return intents


def _plan_issue(
    activity: IssueActivity, *, run_id: int, now: datetime, at: datetime, config: PolicyConfig
) -> list[Intent]:
    intents: list[Intent] = []
    notes: list[str] = []
    event = event_for(activity, config, at)
    run = next((r for r in activity.latest_runs if r.run_id == run_id), None)
    if event is not None and event[0] == "first":
        # The occurrence comment is new too, so it is the announcement: one comment, not two.
        notes.append(event[1])
    elif event is not None and is_history(at, now):
        notes.append(f"{at:%Y-%m-%d %H:%M} UTC, run #{run_id}: {event[1]} (uploaded later)")
    elif event is not None:
        kind, detail = event
        day = at.date().isoformat()
        if activity.events_today < config.daily_budget:
            key = f"event:{activity.issue}:{day}:{kind}" + (
                "" if kind == "spike" else f":run{run_id}"
            )
            body = event_comment(activity, kind, run, detail)
            intents.append(PostComment(issue=activity.issue, body=body, key=key))
        else:
            notes.append(
                f"{at:%Y-%m-%d %H:%M} UTC, run #{run_id}: {detail} (over the day's comment budget)"
            )
        if kind == "recurred" and config.reopen_on_recurrence:
            key = f"reopen:{activity.issue}:run{run_id}"
            intents.append(SetIssueState(activity.issue, "open", "reopened", key))
    body = occurrence_comment(activity, today=max(now, activity.last_seen).date(), notes=notes)
    key = f"{OCCURRENCES}:{activity.issue}:run{run_id}"
    intents.insert(0, UpsertComment(activity.issue, OCCURRENCES, body, key))
    return intents


def plan_stale(
    activities: Sequence[IssueActivity], *, now: datetime, config: PolicyConfig
) -> list[Intent]:
    """Suggest closing open issues without occurrences for stale_issue_days, once each.

    Idle time is measured to the suite's newest run, not to the wall clock: a suite that
    stopped running says nothing about whether its failures are fixed.
    """
    intents: list[Intent] = []
    for activity in activities:
        reference = min(activity.suite_last_run or now, now)
        idle = reference - activity.last_seen
        if activity.state == "closed" or idle < timedelta(days=config.stale_issue_days):
            continue
        detail = (
            f"No failure linked to #{activity.issue} for {idle.days} days of runs "
            f"(last seen {activity.last_seen:%Y-%m-%d}; "
            f"{plural(activity.occurrences, 'failure')} in {plural(activity.runs, 'run')} "
            "before that). It may be fixed: consider closing it."
        )
        last = activity.latest_runs[0] if activity.latest_runs else None
        # One notice per quiet stretch: the key names the last occurrence.
        key = f"stale:{activity.issue}:{activity.last_seen:%Y%m%dT%H%M%S}"
        body = event_comment(activity, "stale", last, detail)
        intents.append(PostComment(issue=activity.issue, body=body, key=key))
    return intents


def plan_new_issue(
    candidates: Sequence[ClusterSummary],
    *,
    config: PolicyConfig,
    labels: tuple[str, ...] = (),
    suspects: Mapping[str, Sequence[SuspectRange]] | None = None,
) -> list[Intent]:
    """File at most one new issue for the most frequent cluster past the threshold.

    `suspects` maps a fingerprint to where each of its failing tests started.
    """
    if not config.file_new_issues:
        return []
    ready = [c for c in candidates if c.runs >= config.new_issue_min_runs]
    if not ready:
        return []
    best = max(ready, key=lambda c: (c.runs, c.count, c.fingerprint))
    message = redact(best.example_message)
    first_line = message.splitlines()[0] if message else ""
    what = strip_exception(best.exception, first_line)[:80] or redact(best.example_nodeid)
    title = f"{best.exception or 'Failure'}: {what}"
    body = "\n".join(
        [
            f"triage-bot saw this unmatched failure in **{best.runs}** runs "
            f"({best.count} failures), "
            f"from {best.first_seen:%Y-%m-%d} to {best.last_seen:%Y-%m-%d}.",
            "",
            f"Example: {code(best.example_nodeid, 500)}",
            "",
            fenced(message[:2000]),
            "",
            *suspect_section((suspects or {}).get(best.fingerprint, ()), config.repository_web),
            f"Fingerprint: {code(best.fingerprint)}",
            "",
            "Suggested rule for the knowledge base:",
            "",
            fenced(redact(best.suggested_rule[:2000]), "toml"),
        ]
    )
    key = f"fingerprint:{best.fingerprint}"
    return [CreateIssue(title=_title(title), body=body, labels=labels, key=key)]


def fenced(text: str, info: str = "") -> str:
    """Put `text` in a code block it cannot close: the fence is longer than any backtick run."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _title(text: str) -> str:
    """One line of at most 200 characters, without @-mentions."""
    return " ".join(text.split())[:200].replace("@", "@\u200d")
