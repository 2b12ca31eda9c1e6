"""Known issues' state read from GitHub through the real gateway, newest change winning."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session

from bot.ports.store import IssueState
from bot.services.issue_sync import EPOCH, refresh_issue_states
from bot.store.engine import make_engine
from bot.store.known_issues import SqlIssueStates
from bot.store.migrate import upgrade
from bot.store.uow import SqlUnitOfWork
from bot.web.app import create_app
from tests.github.conftest import gateway_for
from tests.github_server import TOKEN, running_github
from tests.web.conftest import make_settings, serving, wait_for

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CLOSED = "2026-11-18T10:00:00Z"


def _engine(url: str) -> Engine:
    upgrade(url)
    return make_engine(url)


def _states(engine: Engine) -> dict[int, tuple[str, str, datetime]]:
    with Session(engine) as session:
        return {s.number: (s.state, s.title, s.updated_at) for s in SqlIssueStates(session).all()}


def test_states_are_read_at_their_time_of_change_and_never_undo_a_newer_one(
    database_url: str,
) -> None:
    engine = _engine(database_url)
    with running_github() as github:
        github.add_issue(1, title="Redis down")
        github.add_issue(2, state="closed", title="")
        github.issues[2]["closed_at"] = CLOSED
        github.add_issue(3, state="closed", title="Reopened by the bot, not yet sent")
        github.issues[3]["closed_at"] = CLOSED
        with Session(engine) as session:  # the bot planned #3's reopen a moment ago
            SqlIssueStates(session).set(state=IssueState(3, "open", "t", "reopened", NOW))
            SqlIssueStates(session).set(
                state=IssueState(1, "closed", "Redis down", None, datetime(2026, 11, 1, tzinfo=UTC))
            )
            session.commit()
        known = {1: "kb 1", 2: "Fixture missing", 3: "kb 3", 404: "not on GitHub"}
        done = refresh_issue_states(
            lambda: SqlUnitOfWork(engine), gateway_for(github), known, now=NOW
        )
        reads = [r.path for r in github.requests if r.method == "GET" and "/issues/" in r.path]
    assert done == 3
    states = _states(engine)
    assert states[1] == ("open", "Redis down", NOW)  # reopened since we stored it closed
    assert states[2] == ("closed", "Issue 2", datetime(2026, 11, 18, 10, tzinfo=UTC))
    assert states[3][0] == "open"  # our own planned reopen is newer than GitHub's closing
    assert len(reads) == 4  # one GET per known issue, #404 included (and skipped)
    engine.dispose()


def test_an_open_issue_never_seen_dates_from_the_epoch(sqlite_url: str) -> None:
    engine = _engine(sqlite_url)
    with running_github() as github:
        github.add_issue(7, title="Open")
        refresh_issue_states(lambda: SqlUnitOfWork(engine), gateway_for(github), {7: "x"}, now=NOW)
    assert _states(engine)[7] == ("open", "Open", EPOCH)
    engine.dispose()


def test_the_service_reads_known_issues_state_at_start(database_url: str) -> None:
    with running_github() as github:
        github.add_issue(1029, state="closed", title="Redis connection failures in staging")
        github.issues[1029]["closed_at"] = CLOSED
        settings = make_settings(
            database_url, github_dry_run=False, github_token=SecretStr(TOKEN),
            github_api_url=github.base_url, github_repository=github.repo,
            scheduler_enabled=True, outbox_sender_enabled=False,
        )  # fmt: skip
        with serving(create_app(settings)) as http:

            def state() -> object:
                issues = http.get("/api/v1/known-issues").json()
                return next(i["state"] for i in issues if i["number"] == 1029)

            wait_for(lambda: state() == "closed")
