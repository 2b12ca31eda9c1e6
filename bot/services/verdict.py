"""A stored run's verdict for a deploy gate, with the suspect range of each new failure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.gate import (
    JudgedFailure,
    RunPoint,
    RunVerdict,
    SuspectRange,
    judge_run,
    suspect_range,
)
from bot.core.model import Category, Classification, Outcome
from bot.ports.store import FailureRecord

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
