"""Posting weekly reports: once per suite and week, across replicas, crashes and downtime."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.configs import report_config
from bot.core.criteria import load_criteria
from bot.core.errors import TriageError
from bot.core.intents import CreateIssue, PostComment
from bot.core.weekly import IsoWeek
from bot.ports.outbox import Outbox
from bot.services.objective import UnknownSuiteError
from bot.services.weekly import due_weeks, post_due_reports, post_week, render_week
from bot.store.reports import uow_factory
from tests.fakes import RecordingOutbox
from tests.services.objective_history import fresh_engine, load_scenario, seed

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
CONFIG = report_config(SETTINGS)
CRITERIA = load_criteria(SETTINGS.knowledge_dir / "criteria.toml")
NOW = datetime.fromisoformat("2026-11-16T09:00:00+00:00")  # Monday of W47
W46 = IsoWeek(2026, 46)


@pytest.fixture
def db(database_url: str) -> Any:
    engine = fresh_engine(database_url)
    seed(engine, load_scenario("six_weeks"))
    yield engine
    engine.dispose()


def test_fake_outbox_implements_port() -> None:
    outbox: Outbox = RecordingOutbox()
    assert outbox.enqueue([], now=NOW) == 0


def test_post_week_once_as_comment(db: Any) -> None:
    outbox = RecordingOutbox()
    uow = uow_factory(db, outbox=lambda _s: outbox)
    assert post_week(uow, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert not post_week(uow, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
    intent = outbox.intents["weekly:staging:2026-W46"]
    assert isinstance(intent, PostComment)
    assert intent.issue == 623
    assert "# Staging weekly report: staging, 2026-W46" in intent.body
    assert "Progress: **12/30 days** (not met)" in intent.body
    assert len(outbox.intents) == 1


def test_post_as_new_issue(db: Any) -> None:
    outbox = RecordingOutbox()
    config = report_config(Settings(_env_file=None, report_as_new_issue=True))  # type: ignore[call-arg]
    uow = uow_factory(db, outbox=lambda _s: outbox)
    assert post_week(uow, suite="staging", week=W46, now=NOW, config=config, criteria=CRITERIA)
    intent = outbox.intents["weekly:staging:2026-W46"]
    assert isinstance(intent, CreateIssue)
    assert intent.title.endswith("2026-W46")


def test_crash_before_commit_releases_the_claim(db: Any) -> None:
    crashing = uow_factory(db, outbox=lambda _s: RecordingOutbox(fail=True))
    with pytest.raises(RuntimeError):
        post_week(crashing, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
    outbox = RecordingOutbox()
    uow = uow_factory(db, outbox=lambda _s: outbox)
    assert post_week(uow, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert list(outbox.intents) == ["weekly:staging:2026-W46"]


def test_replicas_racing_post_once(db: Any) -> None:
    outbox = RecordingOutbox()
    uow = uow_factory(db, outbox=lambda _s: outbox)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def replica() -> None:
        barrier.wait()
        results.append(
            post_week(uow, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
        )

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert list(outbox.intents) == ["weekly:staging:2026-W46"]


def test_catch_up_posts_missed_weeks_once(db: Any) -> None:
    outbox = RecordingOutbox()
    uow = uow_factory(db, outbox=lambda _s: outbox)
    assert post_week(
        uow, suite="staging", week=IsoWeek(2026, 43), now=NOW, config=CONFIG, criteria=CRITERIA
    )
    posted = post_due_reports(uow, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert [str(w) for _, w in posted] == ["2026-W44", "2026-W45", "2026-W46"]
    assert (
        post_due_reports(uow, now=NOW + timedelta(hours=1), config=CONFIG, criteria=CRITERIA) == []
    )


def test_due_weeks() -> None:
    assert due_weeks(set(), W46) == [W46]
    assert due_weeks({"2026-W46"}, W46) == []
    assert [str(w) for w in due_weeks({"2026-W30"}, W46)] == [
        "2026-W43",
        "2026-W44",
        "2026-W45",
        "2026-W46",
    ]


def test_render_does_not_claim(db: Any) -> None:
    outbox = RecordingOutbox()
    uow = uow_factory(db, outbox=lambda _s: outbox)
    text = render_week(uow, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert "```mermaid" in text
    assert not outbox.intents
    with pytest.raises(UnknownSuiteError):
        post_week(uow, suite="nope", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)


def test_claim_and_real_outbox_row_commit_together(db: Any) -> None:
    uow = uow_factory(db)  # the store's own outbox, in the same session as the claim
    assert post_week(uow, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert not post_week(uow, suite="staging", week=W46, now=NOW, config=CONFIG, criteria=CRITERIA)
    with db.connect() as conn:
        rows = conn.execute(text("SELECT key, kind, state FROM outbox")).all()
        claims = conn.execute(text("SELECT suite, iso_week FROM weekly_report_claims")).all()
    assert [(r[0], r[2]) for r in rows] == [("weekly:staging:2026-W46", "pending")]
    assert [tuple(c) for c in claims] == [("staging", "2026-W46")]


def test_a_week_still_running_is_refused_and_does_not_block_its_report(db: Any) -> None:
    outbox = RecordingOutbox()
    uow = uow_factory(db, outbox=lambda _s: outbox)
    w47 = IsoWeek(2026, 47)
    with pytest.raises(TriageError) as refused:
        post_week(uow, suite="staging", week=w47, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert refused.value.reason == "week_not_over"
    assert not outbox.intents
    # A week later the scheduled job posts it: nothing was claimed by the refused attempt.
    later = NOW + timedelta(days=7)
    posted = post_due_reports(uow, now=later, config=CONFIG, criteria=CRITERIA)
    assert ("staging", w47) in posted
    assert "weekly:staging:2026-W47" in outbox.intents


def test_catch_up_skips_weeks_before_the_suite_existed(sqlite_url: str) -> None:
    scenario = load_scenario("six_weeks")
    scenario["first_day"] = "2026-11-04"  # Wednesday of W45
    engine = fresh_engine(sqlite_url)
    try:
        seed(engine, scenario)
        outbox = RecordingOutbox()
        uow = uow_factory(engine, outbox=lambda _s: outbox)
        assert post_week(
            uow, suite="staging", week=IsoWeek(2026, 40), now=NOW, config=CONFIG,
            criteria=CRITERIA,
        )  # fmt: skip
        posted = post_due_reports(uow, now=NOW, config=CONFIG, criteria=CRITERIA)
    finally:
        engine.dispose()
    assert [str(w) for _, w in posted] == ["2026-W45", "2026-W46"]


def test_catch_up_waits_for_the_report_hour(db: Any) -> None:
    outbox = RecordingOutbox()
    uow = uow_factory(db, outbox=lambda _s: outbox)
    early = NOW.replace(hour=2)  # Monday 02:00: W46 is due at 09:00, not yet
    posted = post_due_reports(uow, now=early, config=CONFIG, criteria=CRITERIA)
    assert "2026-W46" not in [str(w) for _, w in posted]
    later = post_due_reports(uow, now=NOW, config=CONFIG, criteria=CRITERIA)
    assert "2026-W46" in [str(w) for _, w in later]
