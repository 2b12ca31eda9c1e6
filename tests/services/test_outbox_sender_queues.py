"""The outbox sender on the fake queue and on the store's, against the fake GitHub over HTTP.

The same scenarios on both queues: what the sender does must not depend on which one it has.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.intents import PostComment, UpsertComment, marker
from bot.github.gateway import PyGithubGateway
from bot.services.outbox_sender import OutboxSender, SenderConfig
from tests.github.conftest import gateway_for
from tests.github.outbox_helpers import FakeClock
from tests.github_server import Fault, GitHubState, assert_rest_contract, running_github
from tests.store.port_impls import IMPLS, Outbox, database_url_of, outbox_of


@pytest.fixture(params=IMPLS)
def impl(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(impl: str, request: pytest.FixtureRequest) -> str:
    return database_url_of(impl, request)


@pytest.fixture
def outbox(impl: str, request: pytest.FixtureRequest) -> Outbox:
    return outbox_of(impl, request)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def github(clock: FakeClock) -> Iterator[GitHubState]:
    with running_github() as state:
        state.clock = clock  # GitHub's clock is the test's
        for number in (1, 2, 3):
            state.add_issue(number)
        yield state
        assert_rest_contract(state.requests)


@pytest.fixture
def gateway(github: GitHubState) -> Iterator[PyGithubGateway]:
    gw = gateway_for(github, timeout=1)
    yield gw
    gw.close()


def sender(
    outbox: Outbox, gateway: PyGithubGateway, clock: FakeClock, *, doubt_window_s: float = 600.0
) -> OutboxSender:
    config = SenderConfig(min_interval_s=1.0, max_attempts=5, doubt_window_s=doubt_window_s)
    return OutboxSender(outbox.queue, gateway, config=config, clock=clock, sleep=clock.sleep)


def _posts(github: GitHubState) -> list[str]:
    return [r.path for r in github.writes() if r.method == "POST"]


def test_a_comment_is_sent_once(
    outbox: Outbox, gateway: PyGithubGateway, github: GitHubState, clock: FakeClock
) -> None:
    intent = PostComment(issue=1, body="Seen again", key="event:1:first")
    assert outbox.enqueue([intent], clock.now) == 1
    result = sender(outbox, gateway, clock).drain()
    assert (result.sent, result.retried, result.dead, result.in_doubt) == (1, 0, 0, 0)
    (comment,) = github.comments_on(1)
    assert comment["body"] == f"Seen again\n\n{marker('event:1:first')}"
    assert outbox.enqueue([intent], clock.now) == 0  # the same key is never planned again
    assert sender(outbox, gateway, clock).drain().sent == 0
    stats = outbox.queue.stats()
    assert (stats.pending, stats.sent, stats.in_doubt) == (0, 1, 0)
    assert len(_posts(github)) == 1


def test_a_refused_write_is_retried_after_githubs_wait(
    outbox: Outbox, gateway: PyGithubGateway, github: GitHubState, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/issues/1/comments$", "secondary", retry_after=30))
    outbox.enqueue([PostComment(issue=1, body="later", key="k")], clock.now)
    result = sender(outbox, gateway, clock).drain()
    assert (result.sent, result.retried, result.in_doubt) == (1, 1, 0)
    assert sum(clock.sleeps) >= 30  # Retry-After honoured, on the test's clock
    assert len(github.comments_on(1)) == 1
    assert len(_posts(github)) == 2  # refused outright, so sent again without a look


def test_a_write_whose_answer_was_lost_is_found_not_sent_again(
    outbox: Outbox, gateway: PyGithubGateway, github: GitHubState, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/issues/1/comments$", "lost"))
    outbox.enqueue([PostComment(issue=1, body="once", key="event:1:lost")], clock.now)
    result = sender(outbox, gateway, clock).drain()
    assert (result.sent, result.in_doubt, result.dead) == (1, 1, 0)
    (comment,) = github.comments_on(1)
    assert len(_posts(github)) == 1  # the comment was looked for and adopted
    assert any(r.method == "GET" and r.path.endswith("/issues/1/comments") for r in github.requests)
    assert outbox.queue.stats().in_doubt == 0
    assert comment["body"].startswith("once")


def test_a_write_in_doubt_is_sent_again_only_after_the_window(
    outbox: Outbox, gateway: PyGithubGateway, github: GitHubState, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/issues/1/comments$", "5xx"))  # nothing was written
    outbox.enqueue([PostComment(issue=1, body="once", key="event:1:5xx")], clock.now)
    result = sender(outbox, gateway, clock, doubt_window_s=120).drain()
    assert (result.sent, result.dead) == (1, 0)
    assert result.in_doubt >= 2  # the 502, then looks that found nothing
    first, second = (r for r in github.writes() if r.method == "POST")
    assert first.at is not None
    assert second.at is not None
    assert (second.at - first.at).total_seconds() >= 120
    assert len(github.comments_on(1)) == 1


def test_an_occurrence_comment_is_edited_only_when_its_text_changes(
    outbox: Outbox, gateway: PyGithubGateway, github: GitHubState, clock: FakeClock
) -> None:
    send = sender(outbox, gateway, clock)
    for key, body in (("r1", "3 runs"), ("r2", "3 runs"), ("r3", "4 runs")):
        outbox.enqueue([UpsertComment(2, "occurrences", body, key)], clock.now)
        assert send.drain().sent == 1
    assert [r.method for r in github.writes()] == ["POST", "PATCH"]
    (comment,) = github.comments_on(2)
    assert outbox.queue.comment_record(2, "occurrences") == (comment["id"], comment["body"])
    assert comment["body"].startswith("4 runs")


def test_a_dead_comment_is_sent_once_requeued(
    outbox: Outbox, gateway: PyGithubGateway, github: GitHubState, clock: FakeClock
) -> None:
    outbox.enqueue([PostComment(issue=9, body="to a missing issue", key="k9")], clock.now)
    assert sender(outbox, gateway, clock).drain().dead == 1
    stats = outbox.queue.stats()
    assert (stats.pending, stats.dead) == (0, 1)
    (row,) = stats.dead_rows
    assert row["key"] == "k9"
    github.add_issue(9)  # someone fixed what the write needed
    requeued = outbox.queue.requeue([int(str(row["id"]))], now=clock.now)
    assert len(requeued.requeued) == 1
    assert sender(outbox, gateway, clock).drain().sent == 1
    assert len(github.comments_on(9)) == 1
