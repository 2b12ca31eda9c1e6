"""The outbox sender against the fake GitHub over HTTP and a real database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import pairwise

import pytest
from sqlalchemy import Engine

from bot.core.intents import PostComment, SetIssueState, UpsertComment, marker
from bot.github.gateway import PyGithubGateway
from bot.ports.outbox import OutboxItem
from bot.services.outbox_sender import run_sender_forever
from bot.store.outbox_queue import SqlOutboxQueue
from tests.github.conftest import gateway_for
from tests.github.outbox_helpers import FakeClock, enqueue, rows, sender
from tests.github_server import Fault, GitHubState, assert_rest_contract, running_github


@pytest.fixture
def github(the_clock: FakeClock) -> Iterator[GitHubState]:
    with running_github() as state:
        state.clock = the_clock  # GitHub's clock is the test's
        for number in (1, 2, 3):
            state.add_issue(number)
        yield state
        assert_rest_contract(state.requests)  # every request the test made


@pytest.fixture
def gateway(github: GitHubState) -> Iterator[PyGithubGateway]:
    gw = gateway_for(github, timeout=1)
    yield gw
    gw.close()


@pytest.fixture
def the_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clock(the_clock: FakeClock) -> FakeClock:
    return the_clock


def _posts(github: GitHubState) -> list[str]:
    return [r.path for r in github.writes() if r.method == "POST"]


def test_a_planned_comment_is_posted_once_with_its_marker(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    intent = PostComment(issue=1, body="Seen again", key="event:1:first")
    assert enqueue(engine, [intent], clock.now) == 1
    assert enqueue(engine, [intent], clock.now) == 0  # same key: stored once
    result = sender(engine, gateway, clock).drain()
    assert (result.sent, result.retried, result.dead) == (1, 0, 0)
    (comment,) = github.comments_on(1)
    assert comment["body"] == f"Seen again\n\n{marker('event:1:first')}"
    (row,) = rows(engine)
    assert (row.state, row.result_id, row.attempts) == ("sent", comment["id"], 1)
    assert sender(engine, gateway, clock).drain().sent == 0  # nothing left


@pytest.mark.parametrize("kind", ["5xx", "secondary", "429", "primary", "timeout", "lost"])
def test_no_duplicate_comment_under_any_fault(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock, kind: str
) -> None:
    github.faults.append(
        Fault("POST", r"/issues/1/comments$", kind, times=2, retry_after=30, apply=True)
    )
    enqueue(engine, [PostComment(issue=1, body="once", key="event:1:x")], clock.now)
    result = sender(engine, gateway, clock).drain()
    assert result.sent == 1
    assert result.dead == 0
    assert len(github.comments_on(1)) == 1
    (row,) = rows(engine)
    assert row.state == "sent"
    assert row.result_id == github.comments_on(1)[0]["id"]
    if kind in ("secondary", "429"):
        assert sum(clock.sleeps) >= 2 * 30  # Retry-After honoured twice, on the fake clock
    if kind == "primary":
        assert clock.sleeps[0] >= 29  # waited until x-ratelimit-reset, 30 s ahead
    if kind in ("timeout", "lost"):
        # The first attempt created the comment; the retry found it instead of posting.
        assert len(_posts(github)) == 1


class SimulatedCrashError(Exception):
    """The process died right after GitHub accepted the write."""


def _crash_once(item: OutboxItem) -> None:
    raise SimulatedCrashError(item.id)


def test_crash_between_post_and_commit_does_not_double_the_comment(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    enqueue(engine, [PostComment(issue=2, body="boom", key="event:2:a")], clock.now)
    with pytest.raises(SimulatedCrashError):
        sender(engine, gateway, clock, after_write=_crash_once).drain()
    assert len(github.comments_on(2)) == 1
    assert rows(engine)[0].state == "pending"
    # A new process on the same database resumes the row once its lease has run out.
    restarted = gateway_for(github)
    result = sender(engine, restarted, FakeClock(now=clock.now)).drain()
    assert result.sent == 1
    assert len(github.comments_on(2)) == 1
    assert len(_posts(github)) == 1
    assert rows(engine)[0].result_id == github.comments_on(2)[0]["id"]


def test_crash_after_creating_the_occurrence_comment_adopts_it(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    upsert = UpsertComment(issue=3, marker="occurrences", body="2 runs", key="occ:3:r1")
    enqueue(engine, [upsert], clock.now)
    with pytest.raises(SimulatedCrashError):
        sender(engine, gateway, clock, after_write=_crash_once).drain()
    result = sender(engine, gateway_for(github), FakeClock(now=clock.now)).drain()
    assert result.sent == 1
    assert len(github.comments_on(3)) == 1
    assert [r.method for r in github.writes()] == ["POST"]  # adopted: no PATCH, no 2nd POST


def test_edits_only_when_the_text_changes(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    send = sender(engine, gateway, clock)
    for key, body in (("r1", "3 runs"), ("r2", "3 runs"), ("r3", "4 runs"), ("r4", "4 runs")):
        enqueue(engine, [UpsertComment(1, "occurrences", body, key)], clock.now)
        send.drain()
    assert [r.method for r in github.writes()] == ["POST", "PATCH"]
    (comment,) = github.comments_on(1)
    assert comment["body"].startswith("4 runs")
    assert github.writes()[1].path == f"/repos/acme/widgets/issues/comments/{comment['id']}"


def test_a_newer_occurrence_text_supersedes_a_pending_one(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    enqueue(engine, [UpsertComment(1, "occurrences", "old", "a")], clock.now)
    enqueue(engine, [UpsertComment(1, "occurrences", "new", "b")], clock.now)
    assert sender(engine, gateway, clock).drain().sent == 1
    assert [r.method for r in github.writes()] == ["POST"]
    assert github.comments_on(1)[0]["body"].startswith("new")
    assert [r.state for r in rows(engine)] == ["superseded", "sent"]


def test_an_existing_comment_found_by_marker_and_login_is_edited_not_doubled(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    github.add_comment(2, f"someone quoting {marker('occurrences')}", login="alice")
    mine = github.add_comment(2, f"old\n\n{marker('occurrences')}")
    enqueue(engine, [UpsertComment(2, "occurrences", "fresh", "k")], clock.now)
    sender(engine, gateway, clock).drain()
    assert [(r.method, r.path) for r in github.writes()] == [
        ("PATCH", f"/repos/acme/widgets/issues/comments/{mine['id']}")
    ]


def test_a_deleted_occurrence_comment_is_posted_again(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    send = sender(engine, gateway, clock)
    enqueue(engine, [UpsertComment(1, "occurrences", "v1", "a")], clock.now)
    send.drain()
    github.comments.clear()
    enqueue(engine, [UpsertComment(1, "occurrences", "v2", "b")], clock.now)
    send.drain()
    assert [r.method for r in github.writes()] == ["POST", "PATCH", "POST"]
    assert len(github.comments_on(1)) == 1


def test_writes_are_paced_and_nothing_is_lost_across_a_restart(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    intents = [PostComment(issue=1 + n % 3, body=f"n{n}", key=f"k{n}") for n in range(6)]
    enqueue(engine, intents, clock.now)
    first = sender(engine, gateway, clock).drain(limit=2)
    assert first.sent == 2
    second = sender(engine, gateway_for(github), clock).drain()  # a restarted process
    assert second.sent == 4
    bodies = sorted(c["body"].split("\n")[0] for c in github.comments.values())
    assert bodies == [f"n{n}" for n in range(6)]
    assert all(row.state == "sent" for row in rows(engine))
    # One second at least between writes, waited on the injected clock, never really.
    assert sum(s for s in clock.sleeps if s > 0) >= 4.0


def test_dead_letter_after_max_attempts_and_shown_in_stats(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    # A 403 refusal is certain (nothing written): plain exponential backoff, then dead.
    github.faults.append(Fault("POST", r"/comments$", "secondary", times=100, retry_after=0))
    github.faults.append(Fault("GET", r"/comments$", "secondary", times=100, retry_after=0))
    enqueue(engine, [PostComment(issue=1, body="never", key="k")], clock.now)
    result = sender(engine, gateway, clock, max_attempts=3).drain()
    assert (result.sent, result.retried, result.dead) == (0, 2, 1)
    stats = SqlOutboxQueue(engine).stats()
    assert (stats.pending, stats.dead, stats.in_doubt) == (0, 1, 0)
    assert stats.dead_rows[0]["key"] == "k"
    assert "403" in str(stats.dead_rows[0]["last_error"])
    assert github.comments_on(1) == []


def test_a_write_github_keeps_failing_with_5xx_is_sent_again_only_after_the_window(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    github.faults.append(Fault("POST", r"/comments$", "5xx", times=100))
    enqueue(engine, [PostComment(issue=1, body="never", key="k")], clock.now)
    result = sender(engine, gateway, clock, max_attempts=3, doubt_window_s=300).drain()
    assert (result.sent, result.dead) == (0, 1)
    posts = [r for r in github.writes() if r.method == "POST"]
    assert len(posts) == 3  # each 502 left the write in doubt for the whole window
    assert all(b.at and a.at and (b.at - a.at).total_seconds() >= 300 for a, b in pairwise(posts))
    stats = SqlOutboxQueue(engine).stats()
    assert "outbox_in_doubt" in str(stats.dead_rows[0]["last_error"])
    assert github.comments_on(1) == []


def test_a_comment_github_refuses_is_dead_at_once(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    enqueue(engine, [PostComment(issue=99, body="no such issue", key="k")], clock.now)
    result = sender(engine, gateway, clock).drain()
    assert result.dead == 1
    assert len(github.writes()) == 1


def test_issue_state_change_follows_the_contract(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    enqueue(engine, [SetIssueState(1, "open", "reopened", "reopen:1:r1")], clock.now)
    github.issues[1]["state"] = "closed"
    sender(engine, gateway, clock).drain()
    (patch,) = github.writes()
    assert (patch.method, patch.path) == ("PATCH", "/repos/acme/widgets/issues/1")
    assert patch.json == {"state": "open", "state_reason": "reopened"}
    assert github.issues[1]["state"] == "open"


def test_the_background_loop_sends_new_rows_and_stops(
    github: GitHubState, gateway: PyGithubGateway, engine: Engine, clock: FakeClock
) -> None:
    stop = threading.Event()
    loop = threading.Thread(
        target=run_sender_forever,
        args=(stop, sender(engine, gateway, clock)),
        kwargs={"idle_s": 0.05},
    )
    loop.start()
    enqueue(engine, [PostComment(issue=1, body="from the loop", key="loop")], clock.now)
    for _ in range(200):
        if github.comments_on(1):
            break
        stop.wait(0.05)
    stop.set()
    loop.join(timeout=5)
    assert not loop.is_alive()
    assert len(github.comments_on(1)) == 1
