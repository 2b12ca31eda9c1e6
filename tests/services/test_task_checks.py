"""The tracking issue's task list read through the real gateway from the fake GitHub, stored in
real SQLite and PostgreSQL; GitHub's failures leave what is stored as it was."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from bot.core.tasklist import BEFORE_TRACKING, ISSUE_READ, WEBHOOK
from bot.services.issue_sync import refresh_task_checks
from bot.services.task_checks import record_edit
from bot.store.uow import SqlUnitOfWork
from tests.core.test_tasklist import PHRASES, PLAN
from tests.github.conftest import gateway_for
from tests.github.fake_state import Fault
from tests.github_server import GitHubState, running_github

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _history(engine: Engine) -> list[tuple[str, bool, str | None, str]]:
    with SqlUnitOfWork(engine, write=False) as uow:
        return [(c.criterion, c.checked, c.by, c.source) for c in uow.tasks.history()]


def test_the_first_read_predates_tracking_and_failures_store_nothing(engine: Engine) -> None:
    with running_github(GitHubState(repo="acme/staging")) as github:
        github.add_issue(623, title="Plan")
        github.issues[623]["body"] = PLAN.replace("- [ ] Monitoring", "- [x] Monitoring")
        gateway = gateway_for(github)

        def read() -> int:
            return refresh_task_checks(lambda: SqlUnitOfWork(engine), gateway, 623, PHRASES,
                                       now=NOW)  # fmt: skip

        github.faults.append(Fault("GET", r"/issues/623$", "5xx", times=20))
        assert read() == 0
        assert _history(engine) == []
        github.faults.clear()
        assert read() == 3
        assert read() == 0  # unchanged: nothing more
        assert refresh_task_checks(
            lambda: SqlUnitOfWork(engine), gateway, 9999, PHRASES, now=NOW
        ) == 0  # fmt: skip
    assert sorted(_history(engine)) == [
        ("alerts", True, None, BEFORE_TRACKING),
        ("confidence", False, None, BEFORE_TRACKING),
        ("docs", False, None, BEFORE_TRACKING),
    ]


def test_an_edit_after_the_read_credits_its_editor_and_a_later_read_finds_missed_ones(
    engine: Engine,
) -> None:
    checked = PLAN.replace("- [ ] Documentation", "- [x] Documentation")
    with SqlUnitOfWork(engine) as uow:
        record_edit(uow.tasks, PHRASES, old=PLAN, new=checked, by="alice", at=NOW)
        uow.commit()
    unchecked_again = PLAN
    with running_github(GitHubState(repo="acme/staging")) as github:
        github.add_issue(623, title="Plan")
        github.issues[623]["body"] = unchecked_again  # someone unticked it; no delivery came
        refresh_task_checks(lambda: SqlUnitOfWork(engine), gateway_for(github), 623, PHRASES,
                            now=NOW)  # fmt: skip
    history = _history(engine)
    assert ("docs", True, "alice", WEBHOOK) in history
    assert history[-1] == ("docs", False, None, ISSUE_READ)
    assert len(history) == 4  # alice's check, two untouched items, the missed uncheck
