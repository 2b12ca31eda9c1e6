"""A week of the plan's task list: people check items on the tracking issue, the weekly report
posted to GitHub says which criteria are met, by whom and when."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.configs import report_config
from bot.core.criteria import load_criteria
from bot.core.weekly import IsoWeek
from bot.services.weekly import post_week
from bot.store.engine import make_engine
from bot.store.reports import uow_factory
from tests.core.test_tasklist import PLAN
from tests.github_server import GitHubState
from tests.timeline.harness import SUITE, TITLES, Timeline, timeline
from tests.timeline.suite import SuiteReports
from tests.web.conftest import make_settings
from tests.web.webhook_support import payload

ROOT = Path(__file__).resolve().parents[2]
W36 = IsoWeek(2026, 36)  # 2026-08-31 to 2026-09-06; the timeline starts on Tuesday 09-01
ZWJ = "\u200d"  # the report writes @\u200dlogin so that nobody is notified


def _tick(body: str, phrase: str, *, on: bool) -> str:
    old, new = ("- [ ] ", "- [x] ") if on else ("- [x] ", "- [ ] ")
    assert old + phrase in body
    return body.replace(old + phrase, new + phrase)


def edit_tracking_issue(tl: Timeline, phrase: str, *, on: bool, by: str, at: datetime) -> None:
    """A person ticks (or unticks) an item on GitHub; GitHub delivers `issues.edited`."""
    issue = tl.github.issues[623]
    old = issue["body"]
    issue["body"] = _tick(old, phrase, on=on)
    issue["updated_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    tl.clock.now = at
    data: dict[str, Any] = payload("issues_edited")
    data.pop("installation", None)  # a token-installed service, not an App
    data["issue"].update(issue)
    data["changes"] = {"body": {"from": old}}
    data["sender"]["login"] = by
    data["repository"]["full_name"] = tl.github.repo
    tl.deliveries += 1
    tl.redeliver(data, f"edit-{tl.deliveries}")


def task_verdicts(tl: Timeline, week: str) -> dict[str, tuple[str, str]]:
    answer = tl.http.get("/api/v1/criteria", params={"suite": SUITE, "week": week})
    assert answer.status_code == 200, answer.text
    return {
        v["id"]: (v["status"], v["evidence"])
        for v in answer.json()["verdicts"]
        if v["kind"] == "task"
    }


def _github() -> GitHubState:
    state = GitHubState(repo="acme/staging")
    for number, title in TITLES.items():
        state.add_issue(number, title=title)
    # Someone had already ticked this one before the service ever read the issue.
    state.issues[623]["body"] = _tick(PLAN, "Enterprise deployment confidence", on=True)
    return state


def test_the_weekly_report_says_which_task_criteria_are_met_by_whom_and_when(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports, github=_github()) as tl:
        tl.daily(range(4))  # Tuesday to Friday
        edit_tracking_issue(tl, "Monitoring alerts", on=True, by="alice", at=tl.day(3, 14))
        assert task_verdicts(tl, str(W36))["monitoring-alerts"] == (
            "met",
            "checked by @alice on 2026-09-04",
        )
        tl.daily([4])
        edit_tracking_issue(tl, "Monitoring alerts", on=False, by="bob", at=tl.day(4, 10))
        # Between bob's two edits the running week says so.
        assert task_verdicts(tl, str(W36))["monitoring-alerts"] == (
            "not met",
            "unchecked by @bob on 2026-09-05",
        )
        edit_tracking_issue(tl, "Monitoring alerts", on=True, by="bob", at=tl.day(4, 15))
        tl.daily([5])

        tl.clock.now = datetime(2026, 9, 7, 9, 30, tzinfo=UTC)  # Monday: the report is due
        engine = make_engine(database_url)
        try:
            assert post_week(
                uow_factory(engine), suite=SUITE, week=W36, now=tl.clock.now,
                config=report_config(make_settings(database_url)),
                criteria=load_criteria(ROOT / "knowledge" / "criteria.toml"),
            )  # fmt: skip
        finally:
            engine.dispose()
        tl.drain()
        (report,) = [w for w in tl.new_writes() if w.kind == "post" and "weekly report" in w.body]

        assert task_verdicts(tl, str(W36)) == {
            "monitoring-alerts": ("met", "checked by @bob on 2026-09-05"),
            "deployment-confidence": ("met", "checked before tracking began"),
            "docs-fixture-patterns": ("not met", "not checked yet"),
        }

    assert report.issue == 623
    task_lines = [line for line in report.body.splitlines() if "(task list)" in line]
    assert task_lines == [
        "- [ ] **Documentation updated for SSOT fixture patterns** (task list) — not met: "
        "not checked yet",
        "- [x] **Monitoring alerts for staging test health implemented** (task list) — met: "
        f"checked by @{ZWJ}bob on 2026-09-05",
        "- [x] **Enterprise deployment confidence restored** (task list) — met: "
        "checked before tracking began",
    ]
    # The measured criteria stand beside them in the same checklist.
    checklist = report.body.split("## Success criteria")[1].split("\n## ")[0]
    assert checklist.count("\n- [") == len(load_criteria(ROOT / "knowledge" / "criteria.toml"))
    assert "alice" not in report.body  # bob's re-check is the one that stands
