"""One run is one run: find the stored run a report's content belongs to, whatever its format.

The report digest only catches the same bytes. The same pytest session written as JSON,
JUnit XML or a report log (or re-serialised) has other bytes but the same content: the same
tests with the same outcomes and durations, started at the same time. See bot.core.digest.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.digest import run_content, same_durations, start_tolerance
from bot.core.model import TestRun
from bot.core.timeutil import as_utc
from bot.ports.store import RunIdentity, RunRecord, UnitOfWork
from bot.services.run_meta import RunMeta


def same_run(
    uow: UnitOfWork, run: TestRun, meta: RunMeta, *, now: datetime
) -> tuple[RunIdentity, RunRecord | None]:
    """Return this run's identity (run_id 0) and the stored run with the same content, if any.

    The session's start is the uploader's started_at, else the report's, else now.
    """
    content = run_content(run)
    started = as_utc(meta.started_at or content.started or now)
    identity = RunIdentity(0, content.key, started, content.durations)
    margin = start_tolerance(content)
    for candidate in uow.identities.candidates(
        suite=meta.suite,
        environment=meta.environment,
        key=content.key,
        start=started - margin,
        end=started + margin,
    ):
        if same_durations(candidate.durations, content.durations):
            stored = uow.runs.get(run_id=candidate.run_id)
            if stored is not None:
                return identity, stored
    return identity, None
