"""A stored run's verdict for a deploy gate, with the suspect range of each new failure."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.core.commit_verdict import VerdictTarget, check_name, digest, verdict_intent
from bot.core.gate import (
    JudgedFailure,
    RunPoint,
    RunVerdict,
    SuspectRange,
    judge_run,
    suspect_range,
)
from bot.core.intents import SetCommitVerdict
from bot.core.model import Category, Classification, Outcome
from bot.ports.outbox import VerdictPlans
from bot.ports.store import FailureRecord, RunRecord, UnitOfWork

SUSPECT_LOOKBACK = 100  # runs walked back to find where a failure started
SUSPECTS_MAX = 100  # new failures given a suspect range (one indexed query each)


class VerdictHistory(Protocol):
    def runs_back(self, *, run_id: int, limit: int) -> list[tuple[int, str | None]]: ...

    def failed_in(self, *, nodeid: str, run_ids: Sequence[int]) -> set[int]: ...

    def latest_run(self, *, suite: str, environment: str) -> int | None: ...


class FailureReader(Protocol):
    def for_run(self, *, run_id: int) -> list[FailureRecord]: ...


class VerdictUnitOfWork(Protocol):
    @property
    def failures(self) -> FailureReader: ...

    @property
    def verdicts(self) -> VerdictHistory: ...


@dataclass(frozen=True, slots=True)
class RunJudgement:
    """A run's verdict and, for each new failure, where it started."""

    run_id: int
    verdict: RunVerdict
    suspects: tuple[SuspectRange, ...]


def judge_stored_run(
    uow: VerdictUnitOfWork, *, run_id: int, with_suspects: bool = True
) -> RunJudgement:
    """Judge a stored run as it is judged now (re-judging moves its failures, and so this)."""
    rows = uow.failures.for_run(run_id=run_id)
    verdict = judge_run(_judged(r) for r in rows if r.outcome != Outcome.FLAKY.value)
    news = [f for f in verdict.deciding if f.classification is Classification.NEW][:SUSPECTS_MAX]
    if not with_suspects:
        news = []
    suspects = _suspects(uow.verdicts, run_id, [f.nodeid for f in news]) if news else ()
    return RunJudgement(run_id=run_id, verdict=verdict, suspects=suspects)


def _judged(record: FailureRecord) -> JudgedFailure:
    return JudgedFailure(
        nodeid=record.nodeid,
        classification=Classification(record.classification),
        category=Category(record.category),
        known_issue=record.known_issue,
    )


def _suspects(
    history: VerdictHistory, run_id: int, nodeids: Sequence[str]
) -> tuple[SuspectRange, ...]:
    """One walk back over the suite's runs, one indexed look-up per new failure."""
    runs = history.runs_back(run_id=run_id, limit=SUSPECT_LOOKBACK)
    ids = [rid for rid, _ in runs]
    found = []
    for nodeid in dict.fromkeys(nodeids):  # a test failing in two phases is one range
        failed = history.failed_in(nodeid=nodeid, run_ids=ids)
        points = (RunPoint(rid, commit, rid in failed) for rid, commit in runs)
        suspect = suspect_range(nodeid, points)
        if suspect is not None:
            found.append(suspect)
    return tuple(found)


# --- the verdict on the tested commit: planned after ingest, re-planned after re-judging ----

SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # check runs and statuses need the full sha
FAILED_OUTCOMES = frozenset({Outcome.FAILED.value, Outcome.ERROR.value})


def plan_commit_verdict(
    uow: UnitOfWork, *, run_id: int, target: VerdictTarget, now: datetime
) -> bool:
    """Plan showing a new run's verdict on its commit; False for a run without a full sha."""
    stored = uow.runs.get(run_id=run_id)
    if stored is None or not _sha(stored.run.commit):
        return False
    name = check_name(stored.run.suite, stored.run.environment)
    intent = _intent(uow, stored, target, name=name, revision=1)
    plans = uow.outbox if isinstance(uow.outbox, VerdictPlans) else None
    if plans is None:
        uow.outbox.enqueue([intent], now=now)
    else:
        plans.plan_verdict(
            intent, digest=digest(intent), web=target.web, public_url=target.public_url,
            revision=1, now=now,
        )  # fmt: skip
    return True


def replan_commit_verdicts(uow: UnitOfWork, run_ids: Collection[int], *, now: datetime) -> int:
    """After re-judging, update the verdict shown on each run's commit where it changed.

    Only runs whose verdict was shown are looked at; the same check run is edited (the
    sender finds it by the run), a status is replaced by context. Returns the updates planned.
    """
    plans = uow.outbox if isinstance(uow.outbox, VerdictPlans) else None
    if plans is None or not run_ids:
        return 0
    planned = 0
    for last in plans.planned_verdicts(run_ids=run_ids):
        stored = uow.runs.get(run_id=last.intent.run_id)
        if stored is None:
            continue
        target = VerdictTarget(last.intent.mode, public_url=last.public_url, web=last.web)
        revision = last.revision + 1
        intent = _intent(uow, stored, target, name=last.intent.name, revision=revision)
        shown = digest(intent)
        if shown == last.digest:
            continue
        plans.plan_verdict(
            intent, digest=shown, web=last.web, public_url=last.public_url,
            revision=revision, now=now,
        )  # fmt: skip
        planned += 1
    return planned


def _sha(commit: str | None) -> bool:
    return commit is not None and SHA.fullmatch(commit) is not None


def _intent(
    uow: UnitOfWork, stored: RunRecord, target: VerdictTarget, *, name: str, revision: int
) -> SetCommitVerdict:
    verdict, suspects = judge_with_suspects(uow, stored)
    assert stored.run.commit is not None
    return verdict_intent(
        verdict, suspects, run_id=stored.id, sha=stored.run.commit, name=name,
        target=target, revision=revision,
    )  # fmt: skip


def judge_with_suspects(
    uow: UnitOfWork, stored: RunRecord
) -> tuple[RunVerdict, tuple[SuspectRange, ...]]:
    """Judge a stored run through the unit of work's ports, with each new failure's range.

    One query for the runs before it, one for the new failures' outcomes there, and the
    commits of the two runs bounding each range.
    """
    rows = uow.failures.for_run(run_id=stored.id)
    verdict = judge_run(_judged(r) for r in rows if r.outcome != Outcome.FLAKY.value)
    news = [f.nodeid for f in verdict.deciding if f.classification is Classification.NEW]
    return verdict, suspects_of(uow, stored, news)


def suspects_by_fingerprint(uow: UnitOfWork, *, run_id: int) -> dict[str, list[SuspectRange]]:
    """Where each unmatched failure of a run started, grouped by fingerprint (filed issues)."""
    stored = uow.runs.get(run_id=run_id)
    if stored is None:
        return {}
    rows = [
        r
        for r in uow.failures.for_run(run_id=run_id)
        if r.known_issue is None and r.outcome != Outcome.FLAKY.value and r.fingerprint
    ]
    ranges = {s.nodeid: s for s in suspects_of(uow, stored, [r.nodeid for r in rows])}
    found: dict[str, list[SuspectRange]] = {}
    for row in rows:
        suspect = ranges.get(row.nodeid)
        group = found.setdefault(row.fingerprint, [])
        if suspect is not None and suspect not in group:
            group.append(suspect)
    return found


def suspects_of(
    uow: UnitOfWork, stored: RunRecord, nodeids: Sequence[str]
) -> tuple[SuspectRange, ...]:
    """Where each of the run's failing tests started (at most SUSPECTS_MAX tests)."""
    news = list(dict.fromkeys(nodeids))[:SUSPECTS_MAX]
    if not news:
        return ()
    run = stored.run
    before = uow.runs.previous(
        suite=run.suite, environment=run.environment, before=run.started_at,
        limit=SUSPECT_LOOKBACK - 1,
    )  # fmt: skip
    seen = uow.failures.outcomes(run_ids=before, nodeids=set(news))
    commits: dict[int, str | None] = {stored.id: run.commit}

    def commit_of(run_id: int | None) -> str | None:
        if run_id is None:
            return None
        if run_id not in commits:
            found = uow.runs.get(run_id=run_id)
            commits[run_id] = found.run.commit if found else None
        return commits[run_id]

    suspects = []
    for nodeid in news:
        points = [RunPoint(stored.id, None, True)]
        points += [
            RunPoint(rid, None, seen.get(rid, {}).get(nodeid) in FAILED_OUTCOMES) for rid in before
        ]
        found = suspect_range(nodeid, points)
        if found is not None:
            suspects.append(
                replace(
                    found,
                    first_failed_commit=commit_of(found.first_failed_run),
                    last_passed_commit=commit_of(found.last_passed_run),
                )
            )
    return tuple(suspects)
