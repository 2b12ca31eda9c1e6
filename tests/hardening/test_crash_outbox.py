"""SIGKILL of `triage-bot outbox drain` right after GitHub accepted a comment, then a new drain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from bot.core.intents import PostComment, UpsertComment, marker
from bot.store.migrate import upgrade
from bot.store.outbox_repository import OutboxRepository
from tests.github_server import TOKEN, Fault, GitHubState, running_github
from tests.hardening.conftest import StartService

CLI = Path(sys.executable).parent / "triage-bot"
Intent = PostComment | UpsertComment
POSTS: list[Intent] = [
    PostComment(issue=1029, body=f"Seen again in run {n}.", key=f"run-{n}-1029") for n in (1, 2, 3)
]
UPSERT: Intent = UpsertComment(
    issue=1086, marker="weekly-1086", body="Weekly: 4 runs hit this.", key="w-1"
)


@pytest.fixture
def github() -> Iterator[GitHubState]:
    with running_github() as state:
        state.add_issue(1029)
        state.add_issue(1086)
        yield state


def _enqueue(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            OutboxRepository(session).enqueue([*POSTS, UPSERT], now=datetime.now(UTC))
            session.commit()
    finally:
        engine.dispose()


def _drain(url: str, github: GitHubState, cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        TRIAGE_DATABASE_URL=url, TRIAGE_GITHUB_TOKEN=TOKEN, TRIAGE_GITHUB_API_URL=github.base_url,
        TRIAGE_GITHUB_REPOSITORY=github.repo, TRIAGE_OUTBOX_MIN_INTERVAL_S="0",
        TRIAGE_SCHEDULER_ENABLED="false",
    )  # fmt: skip
    return subprocess.Popen([str(CLI), "outbox", "drain"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip


def _expire_leases(url: str) -> None:
    # The killed drain's claim lasts lease_s (120 s, not a setting): move it into the past
    # instead of waiting it out, exactly as the clock would.
    past = datetime.now(UTC) - timedelta(seconds=1)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE outbox SET claimed_until = :p, next_attempt_at = :p "
                     "WHERE claimed_until IS NOT NULL AND state = 'pending'"),
                {"p": past},
            )  # fmt: skip
    finally:
        engine.dispose()


def _states(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT state FROM outbox ORDER BY id"))]
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stalled", "kind"),
    [(0, "timeout"), (3, "timeout"), (0, "late")],
    ids=["post", "upsert", "late"],
)
def test_sigkill_after_a_write_then_restart_sends_each_comment_once(
    github: GitHubState, database_url: str, tmp_path: Path, stalled: int, kind: str
) -> None:
    _enqueue(database_url)
    target = [*POSTS, UPSERT][stalled]
    # GitHub performs the write, then the answer never comes: the drain is killed meanwhile.
    # "late": GitHub lists the comment only 8 s after the request, so the restarted drain
    # finds the row in doubt, looks, finds nothing yet, and must wait for the marker.
    fault = Fault("POST", rf"/issues/{target.issue}/comments", kind, delay=30, apply=True)
    if kind == "late":
        fault = Fault("POST", rf"/issues/{target.issue}/comments", kind, delay=8, hold=30)
    github.faults.append(fault)
    drain = _drain(database_url, github, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while sum(marker(_key(target)) in c["body"] for c in github.comments.values()) == 0:
            assert drain.poll() is None, drain.stdout.read() if drain.stdout else ""
            assert time.monotonic() < deadline, "the stalled write never reached GitHub"
            time.sleep(0.02)
        os.kill(drain.pid, signal.SIGKILL)
        drain.wait(10)
    finally:
        if drain.poll() is None:
            drain.kill()
            drain.wait(10)
        if drain.stdout is not None:
            drain.stdout.close()
    assert drain.returncode == -signal.SIGKILL
    github.faults.clear()
    _expire_leases(database_url)

    again = _drain(database_url, github, tmp_path)
    out, _ = again.communicate(timeout=120)
    assert again.returncode == 0, out.decode()
    _assert_each_once(github, database_url)


def _assert_each_once(github: GitHubState, url: str) -> None:
    for intent in [*POSTS, UPSERT]:
        tag = marker(_key(intent))
        bodies = [c["body"] for c in github.comments.values() if tag in c["body"]]
        assert len(bodies) == 1, (tag, bodies)
        assert intent.body in bodies[0]
    assert _states(url) == ["sent"] * 4


def _wait_for(check: Callable[[], bool], what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert proc.poll() is None, f"the process exited while waiting for {what}"
        assert time.monotonic() < deadline, f"no {what} within 60 s"
        time.sleep(0.02)


@pytest.mark.slow
def test_sigkill_of_the_service_while_its_sender_writes(
    github: GitHubState, start_service: StartService, database_url: str
) -> None:
    _enqueue(database_url)
    github.faults.append(Fault("POST", r"/issues/1029/comments", "timeout", delay=30, apply=True))
    live = {
        "TRIAGE_GITHUB_TOKEN": TOKEN,
        "TRIAGE_GITHUB_API_URL": github.base_url,
        "TRIAGE_GITHUB_REPOSITORY": github.repo,
        "TRIAGE_OUTBOX_SENDER_ENABLED": "true",
        "TRIAGE_OUTBOX_MIN_INTERVAL_S": "0",
    }
    _, proc = start_service(database_url, **live)
    _wait_for(lambda: bool(github.comments), "stalled write", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    github.faults.clear()
    _expire_leases(database_url)

    _, again = start_service(database_url, **live)
    _wait_for(lambda: _states(database_url) == ["sent"] * 4, "empty outbox", again)
    _assert_each_once(github, database_url)


def _key(intent: Intent) -> str:
    return intent.marker if isinstance(intent, UpsertComment) else intent.key
