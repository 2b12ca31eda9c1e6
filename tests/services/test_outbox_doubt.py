"""Writes in doubt: GitHub completing a comment 30 to 120 s late, a dropped answer, a restart.

The fake GitHub runs over real HTTP on the test's clock: a late write is held and listed only
`delay` seconds of that clock later, while its answer is held past the client's time-out.
Every test counts what the fake GitHub holds, listed or not yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.core.intents import PostComment, SetIssueState, UpsertComment, marker
from bot.github.gateway import PyGithubGateway
from bot.store.outbox_queue import SqlOutboxQueue
from tests.github.conftest import gateway_for
from tests.github.outbox_helpers import FakeClock, enqueue, rows, sender
from tests.github_server import Fault, GitHubState, Recorded, assert_rest_contract, running_github


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def github(clock: FakeClock) -> Iterator[GitHubState]:
    with running_github() as state:
        state.clock = clock
        for number in (1, 2, 3):
            state.add_issue(number)
        yield state
        assert_rest_contract(state.requests)


@pytest.fixture
def gateway(github: GitHubState) -> Iterator[PyGithubGateway]:
    gw = gateway_for(github, timeout=1)
    yield gw
    gw.close()


def _calls(github: GitHubState, method: str, tail: str) -> list[Recorded]:
    return [r for r in github.requests if r.method == method and r.path.endswith(tail)]


def _held(github: GitHubState, issue: int, tag: str) -> list[dict[str, object]]:
    """Every comment GitHub holds with the marker, completed or not."""
    return [c for c in github.comments_on(issue) if tag in str(c["body"])]


@pytest.mark.parametrize("late_s", [30, 60, 120])
def test_a_comment_github_completes_late_is_found_never_posted_twice(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock, late_s: int
) -> None:
    github.faults.append(Fault("POST", r"/issues/1/comments$", "late", delay=late_s))
    enqueue(engine, [PostComment(issue=1, body="once", key="event:1:late")], clock.now)
    result = sender(engine, gateway, clock).drain()
    assert (result.sent, result.dead) == (1, 0)
    assert result.in_doubt >= 2  # the time-out, then at least one look that found nothing
    (comment,) = _held(github, 1, marker("event:1:late"))
    assert len(github.comments) == 1
    (post,) = _calls(github, "POST", "/issues/1/comments")
    looks = _calls(github, "GET", "/issues/1/comments")
    assert post.at is not None
    assert looks[0].at is not None
    assert looks[-1].at is not None
    assert (looks[0].at - post.at).total_seconds() < late_s  # looked before it was there
    assert (looks[-1].at - post.at).total_seconds() >= late_s  # and found it once it was
    (row,) = rows(engine)
    assert (row.state, row.result_id, row.doubt_since) == ("sent", comment["id"], None)
    assert row.attempts == 2  # the write and the look that found it; empty looks do not count


def test_an_occurrence_comment_github_completes_late_is_adopted(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/issues/2/comments$", "late", delay=90))
    enqueue(engine, [UpsertComment(2, "occurrences", "3 runs", "occ:2:a")], clock.now)
    assert sender(engine, gateway, clock).drain().sent == 1
    assert len(_held(github, 2, marker("occurrences"))) == 1
    assert [r.method for r in github.writes()] == ["POST"]
    # The next text edits the adopted comment.
    enqueue(engine, [UpsertComment(2, "occurrences", "4 runs", "occ:2:b")], clock.now)
    assert sender(engine, gateway, clock).drain().sent == 1
    assert [r.method for r in github.writes()] == ["POST", "PATCH"]
    (comment,) = _held(github, 2, marker("occurrences"))
    assert str(comment["body"]).startswith("4 runs")


def test_a_newer_text_waits_for_the_occurrence_comment_in_doubt(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/issues/2/comments$", "late", delay=60))
    enqueue(engine, [UpsertComment(2, "occurrences", "3 runs", "occ:2:a")], clock.now)
    assert sender(engine, gateway, clock).drain(wait=False).in_doubt == 1
    # A newer text arrives while the first write is in doubt: it neither supersedes it nor
    # overtakes it, so it cannot post a second occurrence comment.
    enqueue(engine, [UpsertComment(2, "occurrences", "4 runs", "occ:2:b")], clock.now)
    assert sender(engine, gateway, clock).drain().sent == 2
    (comment,) = _held(github, 2, marker("occurrences"))
    assert str(comment["body"]).startswith("4 runs")
    assert [r.method for r in github.writes()] == ["POST", "PATCH"]


def test_a_dropped_answer_after_the_write_does_not_double_it(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/issues/1/comments$", "drop"))
    enqueue(engine, [PostComment(issue=1, body="once", key="event:1:drop")], clock.now)
    result = sender(engine, gateway, clock).drain()
    assert (result.sent, result.in_doubt) == (1, 1)
    assert len(_held(github, 1, marker("event:1:drop"))) == 1
    assert len(_calls(github, "POST", "/issues/1/comments")) == 1


@pytest.mark.parametrize("late_s", [30, 120])
def test_a_restarted_sender_resolves_the_row_left_in_doubt(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock, late_s: int
) -> None:
    github.faults.append(Fault("POST", r"/issues/3/comments$", "late", delay=late_s))
    enqueue(engine, [PostComment(issue=3, body="once", key="event:3:r")], clock.now)
    first = sender(engine, gateway, clock).drain(wait=False)
    assert (first.sent, first.in_doubt) == (0, 1)
    (row,) = rows(engine)
    assert row.doubt_since is not None
    assert SqlOutboxQueue(engine).stats().in_doubt == 1
    # The process ends; a new one (new gateway, new sender) finds the row in doubt.
    clock.advance(3)
    restarted = gateway_for(github)
    try:
        again = sender(engine, restarted, clock).drain()
    finally:
        restarted.close()
    assert again.sent == 1
    assert len(_held(github, 3, marker("event:3:r"))) == 1
    assert len(_calls(github, "POST", "/issues/3/comments")) == 1
    assert SqlOutboxQueue(engine).stats().in_doubt == 0


def test_without_a_marker_within_the_window_it_posts_again_once(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    # GitHub lost the write for good (it completes after a day): the window ends, one re-post.
    github.faults.append(Fault("POST", r"/issues/1/comments$", "late", delay=86400))
    enqueue(engine, [PostComment(issue=1, body="lost", key="event:1:gone")], clock.now)
    result = sender(engine, gateway, clock, doubt_window_s=600).drain()
    assert result.sent == 1
    first, second = _calls(github, "POST", "/issues/1/comments")
    assert first.at is not None
    assert second.at is not None
    assert (second.at - first.at).total_seconds() >= 600
    looks = _calls(github, "GET", "/issues/1/comments")
    assert 5 <= len(looks) <= 20  # looked repeatedly, with growing pauses


def test_other_rows_flow_while_one_is_in_doubt(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/issues/1/comments$", "late", delay=120))
    enqueue(engine, [PostComment(issue=1, body="slow", key="a")], clock.now)
    enqueue(engine, [PostComment(issue=n, body="quick", key=f"b{n}") for n in (2, 3)], clock.now)
    result = sender(engine, gateway, clock).drain(wait=False)
    assert (result.sent, result.in_doubt) == (2, 1)
    assert max(clock.sleeps, default=0) <= 1.0  # only the pacing between writes, no doubt wait
    assert len(github.comments_on(2)) == len(github.comments_on(3)) == 1


def test_an_edit_answered_404_while_the_comment_exists_edits_it_later(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    send = sender(engine, gateway, clock)
    enqueue(engine, [UpsertComment(1, "occurrences", "v1", "a")], clock.now)
    send.drain()
    github.faults.append(Fault("PATCH", r"/issues/comments/\d+$", "404"))
    enqueue(engine, [UpsertComment(1, "occurrences", "v2", "b")], clock.now)
    result = send.drain()
    assert (result.sent, result.retried) == (1, 1)
    (comment,) = _held(github, 1, marker("occurrences"))
    assert str(comment["body"]).startswith("v2")
    assert [r.method for r in github.writes()] == ["POST", "PATCH", "PATCH"]


def test_an_edit_answered_404_finds_the_marked_comment_under_another_id(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    send = sender(engine, gateway, clock)
    enqueue(engine, [UpsertComment(1, "occurrences", "v1", "a")], clock.now)
    send.drain()
    # The recorded comment is gone, but a marked one by the bot exists (posted by a replica).
    (old,) = github.comments_on(1)
    del github.comments[old["id"]]
    other = github.add_comment(1, f"v1\n\n{marker('occurrences')}")
    SqlOutboxQueue(engine).save_comment_record(
        1, "occurrences", comment_id=old["id"], body="stale", now=clock.now
    )
    enqueue(engine, [UpsertComment(1, "occurrences", "v2", "b")], clock.now)
    assert send.drain().sent == 1
    (comment,) = _held(github, 1, marker("occurrences"))
    assert comment["id"] == other["id"]
    assert str(comment["body"]).startswith("v2")
    assert [r.method for r in github.writes()] == ["POST", "PATCH", "PATCH"]


def test_a_failing_state_change_backs_off_exponentially(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    # An edit is idempotent: it is simply tried again, never in doubt.
    github.faults.append(Fault("PATCH", r"/issues/1$", "5xx", times=100))
    enqueue(engine, [SetIssueState(1, "closed", "completed", "close:1")], clock.now)
    result = sender(engine, gateway, clock, max_attempts=3).drain()
    assert (result.retried, result.dead, result.in_doubt) == (2, 1, 0)
    assert [round(s) for s in clock.sleeps] == [2, 4]


def test_a_dead_row_comes_back_by_itself_after_1_6_and_24_hours_then_stays_visible(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    # Issue 99 does not exist yet: GitHub refuses the comment (404), the row is dead at once.
    enqueue(engine, [PostComment(issue=99, body="late issue", key="k99")], clock.now)
    enqueue(engine, [PostComment(issue=98, body="never", key="k98")], clock.now)
    send = sender(engine, gateway, clock)
    assert send.drain().dead == 2
    start = clock.now
    for hours, expected in ((0.9, 1), (1, 2), (6.9, 2), (7, 3)):
        clock.now = start + timedelta(hours=hours, minutes=1)
        send.drain(wait=False)
        assert len(_calls(github, "POST", "/issues/99/comments")) == expected, hours
    github.add_issue(99)  # GitHub has it now; the 24 h retry sends it
    clock.now = start + timedelta(hours=31, minutes=2)
    assert send.drain(wait=False).sent == 1
    assert len(github.comments_on(99)) == 1
    # Issue 98 never came: after three automatic retries its row stays dead and visible.
    clock.advance(7 * 24 * 3600)
    assert send.drain(wait=False).revived == 0
    stats = SqlOutboxQueue(engine).stats()
    assert (stats.dead, stats.sent) == (1, 1)
    (dead,) = stats.dead_rows
    assert (dead["key"], dead["revivals"]) == ("k98", 3)
    assert len(_calls(github, "POST", "/issues/98/comments")) == 4
