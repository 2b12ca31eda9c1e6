"""Known issues' state read from GitHub at start and now and again; webhooks stay the fast path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from bot.ports.github import GitHubError, IssueBodyReader, IssueStateReader
from bot.ports.reports import TaskUnitOfWork
from bot.ports.store import IssueState, UnitOfWork
from bot.services.task_checks import record_read

log = logging.getLogger(__name__)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def refresh_issue_states(
    uow: Callable[[], UnitOfWork],
    reader: IssueStateReader,
    known: Mapping[int, str],
    *,
    now: datetime,
) -> int:
    """Store what GitHub says of each known issue (newest change wins); return how many.

    One GET per known issue, a handful; the knowledge base's title stands in when GitHub's
    is empty. A GitHub failure leaves the stored states as they were.

    GitHub tells when an issue was closed (closed_at), not when it was reopened, so: a closed
    issue's state dates from closed_at; an open issue stored as closed was reopened since,
    dated `now`; an open issue never stored dates from the epoch, so any webhook wins over it.
    A state the bot planned itself (a reopen still in the outbox) is newer and stays.
    """
    if not known:
        return 0
    try:
        states = reader.issue_states(sorted(known))
    except GitHubError as exc:
        log.warning("reading known issues' state from GitHub failed: %s", exc.message)
        return 0
    with uow() as tx:
        stored = {s.number: s for s in tx.issues.all()}
        for state in states:
            title = state.title or known.get(state.number, "")
            when = _changed_at(state, stored.get(state.number), now)
            tx.issues.set(
                state=IssueState(state.number, state.state, title, state.state_reason, when)
            )
        tx.commit()
    return len(states)


def _changed_at(state: IssueState, stored: IssueState | None, now: datetime) -> datetime:
    if state.state == "closed":
        return state.updated_at
    if stored is None:
        return EPOCH
    return stored.updated_at if stored.state == "open" else now


def refresh_task_checks(
    uow: Callable[[], TaskUnitOfWork],
    reader: IssueBodyReader,
    issue: int,
    phrases: Mapping[str, str],
    *,
    now: datetime,
) -> int:
    """Read the tracking issue's task list and store the states that differ; return how many.

    The webhook's edits are the fast path and say who checked an item; this read makes the
    current state known even when edits were missed (then who and when are unknown).
    """
    if not phrases:
        return 0
    try:
        found = reader.issue_body(issue)
    except GitHubError as exc:
        log.warning("reading the tracking issue #%d from GitHub failed: %s", issue, exc.message)
        return 0
    if found is None:
        log.warning("the tracking issue #%d is not on GitHub: task criteria stay unknown", issue)
        return 0
    with uow() as tx:
        checks = record_read(tx.tasks, phrases, body=found.body, at=now)
        tx.commit()
    return len(checks)
