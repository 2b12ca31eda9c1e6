"""Issues closed and reopened on GitHub, by people and by the bot, with webhooks redelivered."""

from __future__ import annotations

import json

import pytest

from tests.timeline.harness import Write, _iso, timeline
from tests.timeline.suite import SuiteReports

OCC = "### Occurrences seen by triage-bot"
RECURRED = "### Seen again although this issue is closed"
REOPEN = json.dumps({"state": "open", "state_reason": "reopened"}, sort_keys=True)


def _seen(writes: list[Write]) -> list[tuple[str, int, str]]:
    return [(w.kind, w.issue, w.body.splitlines()[0]) for w in writes]


def _resets(objective: dict[str, object]) -> list[tuple[str, str]]:
    resets = objective["resets"]
    assert isinstance(resets, list)
    return [(r["at"], r["reason"].split(":")[0]) for r in resets]


@pytest.mark.parametrize("reopen", [False, True], ids=["no-reopen", "reopen"])
def test_a_closed_issue_whose_failure_comes_back(
    database_url: str, suite_reports: SuiteReports, reopen: bool
) -> None:
    with timeline(database_url, suite_reports, reopen_on_recurrence=reopen) as tl:
        tl.daily(range(3), ["redis"])
        tl.new_writes()
        tl.issue_event(1029, "closed", at=tl.day(2, 12))
        tl.daily(range(3, 6), ["redis"])
        writes = tl.new_writes()
        states = {i["number"]: i["state"] for i in tl.http.get("/api/v1/known-issues").json()}
        objective = tl.objective()
    expected = [("edit", 1029, OCC), ("post", 1029, RECURRED)]
    expected += [("state", 1029, REOPEN)] if reopen else []
    assert _seen(writes) == [*expected, ("edit", 1029, OCC), ("edit", 1029, OCC)]
    assert "The issue is closed, but its failure came back." in writes[1].body
    assert tl.github.issues[1029]["state"] == ("open" if reopen else "closed")
    # The bot's own reopen is its own state at once: the next run is not "recurred" again.
    assert states[1029] == ("open" if reopen else "closed")
    # Closed and still failing, every run is a recurrence; reopened, only the first one.
    days = ["2026-09-04", "2026-09-05", "2026-09-06"][: 1 if reopen else 3]
    assert _resets(objective) == [(f"{d}T06:00:00Z", "recurred") for d in days]


def test_the_webhook_of_the_bots_own_reopen_and_redeliveries_change_nothing(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports, reopen_on_recurrence=True) as tl:
        tl.daily([0], ["redis"])
        guid = tl.issue_event(1029, "closed", at=tl.day(0, 12))
        tl.daily([1], ["redis"])  # recurred: announced and reopened
        tl.new_writes()
        tl.issue_event(1029, "reopened", at=tl.day(1, 7))  # GitHub tells us of our reopen
        assert tl.db.delivery(guid).status == "done"
        tl.redeliver(tl.sent[guid], guid)  # the same delivery again: deduplicated by GUID
        tl.redeliver(tl.sent[guid], "closing-redelivered")  # an old closing, a new GUID
        tl.daily([2, 3], ["redis"])
        writes = tl.new_writes()
        objective = tl.objective()
    assert _seen(writes) == [("edit", 1029, OCC), ("edit", 1029, OCC)]
    assert _resets(objective) == [("2026-09-02T06:00:00Z", "recurred")]


def test_a_run_from_before_the_closing_uploaded_after_it_is_no_recurrence(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports) as tl:
        tl.daily(range(3), ["redis"])
        tl.issue_event(1029, "closed", at=tl.day(3, 12))
        tl.new_writes()
        tl.run(tl.day(3), ["redis"], uploaded=tl.day(3, 13))  # CI uploaded it late
        tl.drain()
        writes = tl.new_writes()
        objective = tl.objective()
    assert _seen(writes) == [("edit", 1029, OCC)]
    assert _resets(objective) == []


def test_a_service_started_after_an_issue_was_closed_reads_its_state_from_github(
    database_url: str, suite_reports: SuiteReports
) -> None:
    with timeline(database_url, suite_reports, reopen_on_recurrence=True) as tl:
        tl.daily([0], ["redis"])
        # Closed while the service did not listen (no webhook), then the service restarts.
        tl.github.issues[1029].update(
            state="closed", closed_at=_iso(tl.day(0, 12)), updated_at=_iso(tl.day(0, 12))
        )
    with timeline(database_url, suite_reports, reopen_on_recurrence=True, github=tl.github) as tl2:
        tl2.seen = len(tl2.writes())
        tl2.daily([1], ["redis"])
        writes = tl2.new_writes()
    assert _seen(writes) == [("edit", 1029, OCC), ("post", 1029, RECURRED), ("state", 1029, REOPEN)]
