"""Known issues' state read from GitHub through the reader port, over the fake unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.ports.github import GitHubError
from bot.ports.store import IssueState
from bot.services.issue_sync import EPOCH, refresh_issue_states
from tests.fakes import FakeIssueStateReader, FakeStore, FakeUnitOfWork

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
CLOSED_AT = datetime(2026, 3, 1, tzinfo=UTC)


def test_states_are_stored_with_the_knowledge_title_when_github_has_none() -> None:
    store = FakeStore()
    reader = FakeIssueStateReader(
        [
            IssueState(7, "closed", "", "completed", CLOSED_AT),
            IssueState(8, "open", "Flaky login", None, NOW),
        ]
    )
    done = refresh_issue_states(
        lambda: FakeUnitOfWork(store), reader, {8: "kb", 7: "Timeout"}, now=NOW
    )
    assert done == 2
    assert reader.asked == [[7, 8]]
    assert store.issue_states == {
        7: IssueState(7, "closed", "Timeout", "completed", CLOSED_AT),
        8: IssueState(8, "open", "Flaky login", None, EPOCH),
    }
    assert store.commits == 1


def test_a_github_failure_leaves_the_stored_states() -> None:
    store = FakeStore()
    stored = IssueState(7, "closed", "Timeout", "completed", CLOSED_AT)
    store.issue_states[7] = stored
    reader = FakeIssueStateReader(error=GitHubError("unavailable", "503", transient=True))
    assert refresh_issue_states(lambda: FakeUnitOfWork(store), reader, {7: "Timeout"}, now=NOW) == 0
    assert store.issue_states == {7: stored}
    assert store.commits == 0
