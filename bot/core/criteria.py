"""Success criteria as data (knowledge/criteria.toml): loading, -k selections, weekly verdicts."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.errors import KnowledgeError, TriageError
from bot.core.model import Phase
from bot.core.objective import Objective
from bot.core.tasklist import BEFORE_TRACKING, TaskCheck

KINDS = ("no_failures", "reports_daily", "pass_rate", "objective", "known_issue_trend", "task")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
Predicate = Callable[[str], bool]


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not met"
    NO_DATA = "no data"


@dataclass(frozen=True)
class Criterion:
    """One success criterion; which fields matter depends on `kind`."""

    id: str
    title: str
    kind: str
    select: str | None = None
    phases: tuple[Phase, ...] = ()
    message: re.Pattern[str] | None = None
    exception: re.Pattern[str] | None = None
    threshold: float = 0.0
    min_runs_per_day: int = 1
    task: str | None = None  # kind task: a phrase a task item of the tracking issue contains
    matches: Predicate = field(default=lambda _: True, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Failures of one week sharing node id, phase, exception, fingerprint and verdict."""

    nodeid: str
    phase: str
    exception: str | None
    message: str
    classification: str
    category: str
    known_issue: int | None
    count: int


@dataclass(frozen=True, slots=True)
class WeekFacts:
    """What one suite's ISO week looked like, gathered by the service."""

    suite: str
    first_day: date
    last_day: date  # the Sunday, or today while the week is running
    runs_per_day: Mapping[date, int]
    failures: Sequence[FailureGroup]
    failed_runs_by_nodeid: Mapping[str, int]
    tests: Sequence[str]  # node ids the suite is known to run
    known_this_week: Mapping[int, int]
    known_last_week: Mapping[int, int]
    objective: Objective | None
    first_run_day: date | None = None  # the suite's first run, in the report's zone
    # Task criteria: each one's item of the tracking issue as of the week's end, by criterion id.
    tasks: Mapping[str, TaskCheck] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        """Count the runs of the week."""
        return sum(self.runs_per_day.values())


@dataclass(frozen=True, slots=True)
class Verdict:
    criterion: Criterion
    status: Status
    evidence: str
    check: TaskCheck | None = None  # a task criterion's item as of the week's end


# --- keyword selections ---------------------------------------------------------------------


def compile_keywords(expression: str) -> Predicate:
    """Compile a pytest -k style expression into a predicate over node ids."""
    tokens: list[str] = _TOKEN.findall(expression)
    if not tokens:
        raise TriageError("bad_keyword", "keyword expression is empty")
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise TriageError("bad_keyword", f"{expression!r} ends too early")
        pos += 1
        return tokens[pos - 1]

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def binary(word: str, operand: Callable[[], Predicate]) -> Predicate:
        parts = [operand()]
        while peek() == word:
            take()
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        if word == "or":
            return lambda s: any(p(s) for p in parts)
        return lambda s: all(p(s) for p in parts)

    def factor() -> Predicate:
        item = take()
        if item == "not":
            inner = factor()
            return lambda s: not inner(s)
        if item == "(":
            inner = binary("or", lambda: binary("and", factor))
            if take() != ")":
                raise TriageError("bad_keyword", f"missing ')' in {expression!r}")
            return inner
        if item in {")", "and", "or"}:
            raise TriageError("bad_keyword", f"unexpected {item!r} in {expression!r}")
        word = item.lower()
        return lambda s: word in s.lower()

    predicate = binary("or", lambda: binary("and", factor))
    if peek() is not None:
        raise TriageError("bad_keyword", f"unexpected {peek()!r} in {expression!r}")
    return predicate


# --- loading ---------------------------------------------------------------------------------


def _fail(where: str, message: str) -> KnowledgeError:
    return KnowledgeError("bad_criteria", f"{where}: {message}")


def _regex(where: str, value: Any) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(where, "must be a regular expression string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise _fail(where, f"invalid regular expression: {exc}") from None


def _selection(where: str, select: Any) -> tuple[str | None, Predicate]:
    if select is None:
        return None, lambda _: True
    if not isinstance(select, str):
        raise _fail(f"{where}.select", "must be a -k style keyword expression")
    try:
        return select, compile_keywords(select)
    except TriageError as exc:
        raise _fail(f"{where}.select", exc.message) from None


def _criterion(where: str, raw: Any) -> Criterion:
    if not isinstance(raw, dict):
        raise _fail(where, "must be a table")
    allowed = {"id", "title", "kind", "select", "phases", "message", "exception"}
    allowed |= {"threshold", "min_runs_per_day", "task"}
    for key in raw:
        if key not in allowed:
            raise _fail(f"{where}.{key}", "unknown field")
    cid, title, kind = raw.get("id"), raw.get("title"), raw.get("kind")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise _fail(f"{where}.id", "must be lowercase letters, digits and dashes")
    where = f"{where} ({cid})"
    if not isinstance(title, str) or not title.strip():
        raise _fail(f"{where}.title", "must be a non-empty string")
    if kind not in KINDS:
        raise _fail(f"{where}.kind", f"must be one of {', '.join(KINDS)}")
    select, matches = _selection(where, raw.get("select"))
    phases = raw.get("phases", [])
    valid_phases = {p.value for p in Phase}
    if not isinstance(phases, list) or any(p not in valid_phases for p in phases):
        raise _fail(f"{where}.phases", f"must be a list of {', '.join(sorted(valid_phases))}")
    threshold = raw.get("threshold", 0.0)
    if kind == "pass_rate" and (select is None or "threshold" not in raw):
        raise _fail(where, "a pass_rate criterion needs select and threshold")
    if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise _fail(f"{where}.threshold", "must be a number between 0 and 1")
    per_day = raw.get("min_runs_per_day", 1)
    if not isinstance(per_day, int) or isinstance(per_day, bool) or per_day < 1:
        raise _fail(f"{where}.min_runs_per_day", "must be a whole number of at least 1")
    criterion = Criterion(
        id=cid,
        title=title,
        kind=kind,
        select=select,
        phases=tuple(Phase(p) for p in phases),
        message=_regex(f"{where}.message", raw.get("message")),
        exception=_regex(f"{where}.exception", raw.get("exception")),
        threshold=float(threshold),
        min_runs_per_day=per_day,
        task=_task(where, kind, raw.get("task")),
        matches=matches,
    )
    if kind == "no_failures" and not (select or phases or criterion.message or criterion.exception):
        raise _fail(where, "a no_failures criterion needs select, phases, message or exception")
    return criterion


def _task(where: str, kind: str, task: Any) -> str | None:
    if kind != "task":
        if task is not None:
            raise _fail(f"{where}.task", "only a task criterion has a task phrase")
        return None
    if not isinstance(task, str) or not 3 <= len(task.strip()) <= 200:
        raise _fail(f"{where}.task", "a task criterion needs a phrase of 3 to 200 characters")
    return " ".join(task.split())


def task_phrases(criteria: Sequence[Criterion]) -> dict[str, str]:
    """Each task criterion's id and the phrase its task item contains."""
    return {c.id: c.task for c in criteria if c.task is not None}


def parse_criteria(text: str, *, source: str) -> tuple[Criterion, ...]:
    """Parse and validate criteria TOML; errors name the file and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(source, f"invalid TOML: {exc}") from None
    if data.get("version") != 1:
        raise _fail(f"{source}: version", "must be 1")
    unknown = set(data) - {"version", "criterion"}
    if unknown:
        raise _fail(f"{source}: {sorted(unknown)[0]}", "unknown field")
    raw = data.get("criterion")
    if not isinstance(raw, list) or not raw:
        raise _fail(f"{source}: criterion", "needs at least one [[criterion]]")
    out = tuple(_criterion(f"{source}: criterion[{i}]", item) for i, item in enumerate(raw))
    ids = [c.id for c in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise _fail(f"{source}: criterion", f"duplicate id {dupes[0]!r}")
    return out


def load_criteria(path: Path) -> tuple[Criterion, ...]:
    """Load the criteria file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(str(path), f"cannot read: {exc.strerror}") from None
    return parse_criteria(text, source=str(path))


# --- weekly verdicts -------------------------------------------------------------------------


def _selected(c: Criterion, g: FailureGroup) -> bool:
    return (
        c.matches(g.nodeid)
        and (not c.phases or g.phase in c.phases)
        and (c.message is None or c.message.search(g.message) is not None)
        and (c.exception is None or c.exception.search(g.exception or "") is not None)
    )


def _no_failures(c: Criterion, facts: WeekFacts) -> tuple[Status, str]:
    hits = [g for g in facts.failures if _selected(c, g)]
    if not hits:
        return Status.MET, f"no matching failure in {plural(facts.runs, 'run')}"
    total = sum(g.count for g in hits)
    first = hits[0]
    example = f"`{first.nodeid}` ({first.phase}): {first.message}".strip()
    return Status.NOT_MET, (
        f"{plural(total, 'matching failure')} in {plural(len(hits), 'group')}, e.g. {example}"
    )


def noun(count: int, word: str) -> str:
    """Return `word` or its plural (an added s) as `count` asks."""
    return word if count == 1 else f"{word}s"


def plural(count: int, word: str) -> str:
    """Say "1 run", "2 runs", "0 runs"."""
    return f"{count} {noun(count, word)}"


def _reports_daily(c: Criterion, facts: WeekFacts) -> tuple[Status, str]:
    days = [facts.first_day + timedelta(days=i) for i in range(7)]
    # Days before the suite's first run are not days it failed to report.
    start = facts.first_run_day or facts.first_day
    days = [d for d in days if start <= d <= facts.last_day]
    if not days:
        return Status.NO_DATA, "the suite had not started running this week"
    since = f" since its first run on {start}" if start > facts.first_day else ""
    short = [d for d in days if facts.runs_per_day.get(d, 0) < c.min_runs_per_day]
    if not short:
        return Status.MET, (
            f"{plural(facts.runs, 'run')}, every day of {len(days)} reported{since}"
        )
    listed = ", ".join(d.isoformat() for d in short)
    return Status.NOT_MET, (
        f"{len(short)} of {plural(len(days), 'day')}{since} without enough runs: {listed}"
    )


def _pass_rate(c: Criterion, facts: WeekFacts) -> tuple[Status, str]:
    group = {t for t in facts.tests if c.matches(t)}
    group |= {n for n in facts.failed_runs_by_nodeid if c.matches(n)}
    if facts.runs == 0 or not group:
        return Status.NO_DATA, f"no runs of tests selected by -k {c.select!r}"
    executions = len(group) * facts.runs
    failed = sum(min(facts.failed_runs_by_nodeid.get(n, 0), facts.runs) for n in group)
    rate = 1 - failed / executions
    status = Status.MET if rate >= c.threshold else Status.NOT_MET
    return status, (
        f"{rate:.1%} passed ({failed} failed of {plural(executions, 'test run')}, "
        f"{plural(len(group), 'test')}); "
        f"threshold {c.threshold:.0%}"
    )


def _objective(c: Criterion, facts: WeekFacts) -> tuple[Status, str]:
    obj = facts.objective
    if obj is None or obj.days_with_runs == 0:
        return Status.NO_DATA, "no runs in the objective window"
    clean = "clean" if obj.window_clean else "not clean"
    evidence = f"streak {obj.progress}, window {clean}, coverage {obj.coverage:.0%}"
    return (Status.MET if obj.met else Status.NOT_MET), evidence


def trend(now: int, before: int) -> str:
    """Name the direction of a weekly count."""
    if now > before:
        return "up"
    return "down" if now < before else "flat"


def _known_trend(c: Criterion, facts: WeekFacts) -> tuple[Status, str]:
    if facts.runs == 0:
        return Status.NO_DATA, "no runs this week"
    issues = sorted(set(facts.known_this_week) | set(facts.known_last_week))
    if not issues:
        return Status.MET, "no known-issue occurrences this week or last"
    parts, rising = [], 0
    for issue in issues:
        now, before = facts.known_this_week.get(issue, 0), facts.known_last_week.get(issue, 0)
        rising += now > before
        parts.append(f"#{issue}: {now} (last week {before}, {trend(now, before)})")
    return (Status.NOT_MET if rising else Status.MET), "; ".join(parts)


def _task_verdict(c: Criterion, facts: WeekFacts) -> tuple[Status, str]:
    check = facts.tasks.get(c.id)
    if check is None:
        return Status.NO_DATA, (
            f"no task item containing {c.task!r} seen on the tracking issue by then: "
            f"add `- [ ] {c.task}` to its task list"
        )
    day = f"{check.at:%Y-%m-%d}"
    if check.by is not None:
        verb = "checked" if check.checked else "unchecked"
        evidence = f"{verb} by @{check.by} on {day}"
    elif check.source == BEFORE_TRACKING:
        evidence = f"{'checked' if check.checked else 'not checked'} before tracking began"
    else:
        state = "checked" if check.checked else "unchecked"
        evidence = f"{state}, by whom unknown (the edit was not seen), first seen on {day}"
    if check.checked:
        return Status.MET, evidence
    return Status.NOT_MET, evidence if check.by is not None else "not checked yet"


_EVALUATORS = {
    "no_failures": _no_failures,
    "reports_daily": _reports_daily,
    "pass_rate": _pass_rate,
    "objective": _objective,
    "known_issue_trend": _known_trend,
    "task": _task_verdict,
}


def evaluate(criteria: Sequence[Criterion], facts: WeekFacts) -> list[Verdict]:
    """Judge every criterion on one week: met, not met or no data, with evidence."""
    verdicts = []
    for c in criteria:
        if facts.runs == 0 and c.kind in {"no_failures", "pass_rate"}:
            verdicts.append(Verdict(c, Status.NO_DATA, "no runs this week"))
            continue
        status, evidence = _EVALUATORS[c.kind](c, facts)
        check = facts.tasks.get(c.id) if c.kind == "task" else None
        verdicts.append(Verdict(c, status, evidence, check))
    return verdicts
