"""Known issues' state read from GitHub at start and now and again; webhooks stay the fast path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from bot.ports import GitHubError, IssueState, IssueStateReader, UnitOfWork

log = logging.getLogger(__name__)


def refresh_issue_states(
    uow: Callable[[], UnitOfWork], reader: IssueStateReader, known: Mapping[int, str]
) -> int:
    """Store what GitHub says of each known issue (newest change wins); return how many.

    One GET per known issue, a handful; the knowledge base's title stands in when GitHub's
    is empty. A GitHub failure leaves the stored states as they were.
    """
    if not known:
        return 0
    try:
        states = reader.issue_states(sorted(known))
    except GitHubError as exc:
        log.warning("reading known issues' state from GitHub failed: %s", exc.message)
        return 0
    with uow() as tx:
        for state in states:
            title = state.title or known.get(state.number, "")
            tx.issues.set(
                state=IssueState(
                    state.number, state.state, title, state.state_reason, state.updated_at
                )
            )
        tx.commit()
    return len(states)
