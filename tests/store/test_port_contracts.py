"""Each port with one store implementation has a fake: one test body runs on both.

The fakes of tests/fakes.py stand in for the store in service tests; these contracts keep them
faithful. Every test here runs on the fake, on real SQLite and on real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine

from bot.core.intents import CreateIssue, PostComment, SetIssueState, UpsertComment
from bot.ports.outbox import Requeued
from bot.ports.reports import ReportsUowFactory
from bot.ports.store import NewRun
from bot.ports.webhooks import Deliveries
from bot.store.deliveries import Claimed, EngineDeliveryStore
from bot.store.reports import uow_factory
from bot.store.uow import SqlUnitOfWork
from tests.fakes import FakeDeliveries, FakeReportData, FakeReportsUowFactory
from tests.store.port_impls import IMPLS, Outbox, database_url_of, outbox_of, store_engine

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
LEASE_S = 60.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=IMPLS)
def impl(request: pytest.FixtureRequest) -> str:
    """Which implementation of the port a test runs on."""
    return str(request.param)


@pytest.fixture
def database_url(impl: str, request: pytest.FixtureRequest) -> str:
    """The shared `engine` fixture's database, for the store's side of a contract."""
    return database_url_of(impl, request)


# --- OutboxQueue: SqlOutboxQueue and FakeOutboxQueue ----------------------------------------


@pytest.fixture
def outbox(impl: str, request: pytest.FixtureRequest) -> Outbox:
    return outbox_of(impl, request)


def _claim(outbox: Outbox, seconds: float) -> tuple[str, int] | None:
    item = outbox.queue.claim_next(now=at(seconds), lease_s=LEASE_S)
    return None if item is None else (item.intent.key, item.attempts)


def _ids(outbox: Outbox, seconds: float) -> int:
    item = outbox.queue.claim_next(now=at(seconds), lease_s=LEASE_S)
    assert item is not None
    return item.id


def test_outbox_claims_oldest_first_one_write_per_target_at_a_time(outbox: Outbox) -> None:
    intents = [PostComment(1, "a", "k1"), PostComment(1, "b", "k2"), PostComment(2, "c", "k3")]
    assert outbox.enqueue(intents, T0) == 3
    assert outbox.enqueue(intents[:1], T0) == 0  # stored by key, once
    item = outbox.queue.claim_next(now=T0, lease_s=LEASE_S)
    assert item is not None
    assert (item.intent, item.attempts, item.created_at, item.doubt_since) == (
        intents[0], 1, T0, None,
    )  # fmt: skip
    assert _claim(outbox, 0) == ("k3", 1)  # issue 1 has a write in flight: k2 waits
    assert _claim(outbox, 0) is None
    # k2 waits behind k1, so the next thing due is the end of the leases.
    assert outbox.queue.next_due_at() == at(LEASE_S)
    outbox.queue.complete(item.id, result_id=11, now=at(1))
    assert _claim(outbox, 1) == ("k2", 1)
    stats = outbox.queue.stats()
    assert (stats.pending, stats.sent, stats.dead, stats.in_doubt) == (2, 1, 0, 0)


def test_outbox_an_unfinished_claim_comes_back_when_its_lease_ends(outbox: Outbox) -> None:
    outbox.enqueue([SetIssueState(1, "closed", "completed", "close:1")], T0)
    assert _claim(outbox, 0) == ("close:1", 1)
    assert _claim(outbox, LEASE_S - 1) is None  # a crashed sender's row stays hidden a while
    assert outbox.queue.next_due_at() == at(LEASE_S)
    assert _claim(outbox, LEASE_S) == ("close:1", 2)  # then it is resumed, one attempt more


def test_outbox_retry_later_waits_and_uncount_gives_the_attempt_back(outbox: Outbox) -> None:
    outbox.enqueue([PostComment(1, "a", "k")], T0)
    first = _ids(outbox, 0)
    outbox.queue.retry_later(first, error="github_unavailable: 502", at=at(30))
    assert outbox.queue.next_due_at() == at(30)
    assert _claim(outbox, 29) is None
    second = outbox.queue.claim_next(now=at(30), lease_s=LEASE_S)
    assert second is not None
    assert (second.id, second.attempts) == (first, 2)
    outbox.queue.retry_later(first, error="a look, not a write", at=at(40), uncount=True)
    assert _claim(outbox, 40) == ("k", 2)  # the look did not count
    assert outbox.queue.stats().pending == 1


def test_outbox_dead_rows_come_back_on_schedule_and_when_requeued(outbox: Outbox) -> None:
    outbox.enqueue([PostComment(1, "a", "dies"), PostComment(2, "b", "sent")], T0)
    dies, sent = _ids(outbox, 0), _ids(outbox, 0)
    outbox.queue.complete(sent, result_id=5, now=at(1))
    secret = "https://bot:hunter2@example.com"
    outbox.queue.dead(dies, error=f"github_forbidden: {secret} " + "x" * 900, now=at(1),
                      revive_after_s=(3600.0,))  # fmt: skip
    stats = outbox.queue.stats()
    assert (stats.pending, stats.sent, stats.dead) == (0, 1, 1)
    (row,) = stats.dead_rows
    assert (row["id"], row["key"], row["kind"], row["attempts"], row["revivals"]) == (
        dies, "dies", "PostComment", 1, 0,
    )  # fmt: skip
    error = str(row["last_error"])
    assert "hunter2" not in error
    assert len(error) == 500
    assert row["updated_at"] == at(1).isoformat()
    assert outbox.queue.next_due_at() is None  # a dead row is not pending
    assert outbox.queue.revive_dead(now=at(3600), max_revivals=1) == 0
    assert outbox.queue.revive_dead(now=at(3601), max_revivals=1) == 1
    assert _claim(outbox, 3601) == ("dies", 1)  # every attempt given back
    outbox.queue.dead(dies, error="again", now=at(3602), revive_after_s=(3600.0,))
    assert outbox.queue.revive_dead(now=at(99999), max_revivals=1) == 0  # revivals used up
    assert outbox.queue.stats().dead_rows[0]["revivals"] == 1
    assert outbox.queue.requeue([dies, sent, 999, -1], now=at(4000)) == Requeued(
        requeued=(dies,), skipped=((-1, "missing"), (sent, "sent"), (999, "missing"))
    )
    assert outbox.queue.requeue(None, now=at(4000)) == Requeued(requeued=(), skipped=())
    assert _claim(outbox, 4000) == ("dies", 1)


def test_outbox_a_write_in_doubt_holds_its_target_until_resolved(outbox: Outbox) -> None:
    outbox.enqueue([PostComment(1, "a", "doubt")], T0)
    item = _ids(outbox, 0)
    outbox.queue.begin_write(item, now=at(1))
    assert outbox.queue.stats().in_doubt == 1
    outbox.queue.retry_later(item, error="github_timeout: no answer", at=at(6))
    outbox.enqueue([PostComment(1, "b", "behind")], at(2))
    assert _claim(outbox, 3) is None  # the later row waits for the doubt to be resolved
    assert outbox.queue.next_due_at() == at(6)
    again = outbox.queue.claim_next(now=at(6), lease_s=LEASE_S)
    assert again is not None
    assert (again.id, again.attempts, again.doubt_since) == (item, 2, at(1))
    outbox.queue.clear_doubt(item)  # GitHub refused the write: nothing is in doubt
    assert outbox.queue.stats().in_doubt == 0
    outbox.queue.begin_write(item, now=at(7))
    outbox.queue.complete(item, result_id=77, now=at(8))
    assert outbox.queue.stats().in_doubt == 0  # an answer ends the doubt
    assert _claim(outbox, 8) == ("behind", 1)


def test_outbox_a_newer_text_supersedes_only_a_write_not_in_flight(outbox: Outbox) -> None:
    outbox.enqueue([UpsertComment(1, "occ", "old", "a")], T0)
    outbox.enqueue([UpsertComment(1, "occ", "new", "b")], T0)
    assert outbox.queue.stats().superseded == 1
    item = outbox.queue.claim_next(now=T0, lease_s=LEASE_S)
    assert item is not None
    assert item.intent == UpsertComment(1, "occ", "new", "b")
    outbox.enqueue([UpsertComment(1, "occ", "newer", "c")], at(1))
    assert outbox.queue.stats().superseded == 1  # "new" is in flight: it lands first
    assert _claim(outbox, 1) is None
    outbox.queue.complete(item.id, result_id=1, now=at(2))
    assert _claim(outbox, 2) == ("c", 1)


def test_outbox_intents_come_back_as_stored(outbox: Outbox) -> None:
    issue = CreateIssue("Weekly", "body", ("triage-report", "bot"), "weekly:s:2026-W46")
    outbox.enqueue([issue], T0)
    item = outbox.queue.claim_next(now=T0, lease_s=LEASE_S)
    assert item is not None
    assert item.intent == issue


def test_outbox_comment_records(outbox: Outbox) -> None:
    queue = outbox.queue
    assert queue.comment_record(1, "occ") is None
    queue.save_comment_record(1, "occ", comment_id=10, body="v1", now=T0)
    queue.save_comment_record(1, "occ", comment_id=11, body="v2", now=at(1))
    queue.save_comment_record(2, "occ", comment_id=20, body="other", now=at(1))
    assert queue.comment_record(1, "occ") == (11, "v2")
    queue.drop_comment_record(1, "occ")
    queue.drop_comment_record(1, "never")
    assert queue.comment_record(1, "occ") is None
    assert queue.comment_record(2, "occ") == (20, "other")


# --- Deliveries: EngineDeliveryStore, the unit of work's DeliveryRepository, FakeDeliveries --


# The store has two: each call in its own transaction, or in the unit of work's (the service's).
ON_DELIVERIES = pytest.mark.parametrize(
    "impl",
    [
        "fake", "sqlite", "sqlite+uow",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres+uow", marks=pytest.mark.postgres),
    ],
    indirect=True,
)  # fmt: skip


@pytest.fixture
def deliveries(impl: str, request: pytest.FixtureRequest) -> Deliveries:
    if impl == "fake":
        return FakeDeliveries()
    engine = store_engine(request)
    return _CommittingDeliveries(engine) if impl.endswith("+uow") else EngineDeliveryStore(engine)


class _CommittingDeliveries:
    """Each call in a SqlUnitOfWork of its own, committed, as the webhook service calls it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, **kw: Any) -> bool:
        with SqlUnitOfWork(self.engine) as uow:
            stored = uow.deliveries.record(**kw)
            uow.commit()
        return stored

    def claim(self, **kw: Any) -> Claimed | None:
        with SqlUnitOfWork(self.engine) as uow:
            claimed = uow.deliveries.claim(**kw)
            uow.commit()
        return claimed

    def release(self, **kw: Any) -> None:
        with SqlUnitOfWork(self.engine) as uow:
            uow.deliveries.release(**kw)
            uow.commit()

    def finish(self, **kw: Any) -> None:
        with SqlUnitOfWork(self.engine) as uow:
            uow.deliveries.finish(**kw)
            uow.commit()

    def pending(self, **kw: Any) -> list[str]:
        with SqlUnitOfWork(self.engine, write=False) as uow:
            return uow.deliveries.pending(**kw)


def _record(store: Deliveries, guid: str, status: str = "pending", now: datetime = T0) -> bool:
    return store.record(
        guid=guid, event="issues", action="closed", payload=b'{"n": 1}', status=status, now=now
    )


@ON_DELIVERIES
def test_deliveries_a_guid_is_stored_once(deliveries: Deliveries) -> None:
    assert _record(deliveries, "g")
    assert not _record(deliveries, "g", status="done")
    assert deliveries.pending(limit=10) == ["g"]  # the first one stands


@ON_DELIVERIES
def test_deliveries_claim_release_finish(deliveries: Deliveries) -> None:
    _record(deliveries, "g")
    claimed = deliveries.claim(guid="g", now=T0)
    assert claimed is not None
    assert (claimed.guid, claimed.event, claimed.payload, claimed.attempts) == (
        "g", "issues", b'{"n": 1}', 1,
    )  # fmt: skip
    assert deliveries.claim(guid="g", now=T0) is None  # processing: nobody else takes it
    assert deliveries.pending(limit=10) == []
    deliveries.release(guid="g", outcome="attempt 1 failed", now=at(1))
    assert deliveries.pending(limit=10, before=at(1)) == []  # released just now
    assert deliveries.pending(limit=10, before=at(2)) == ["g"]
    again = deliveries.claim(guid="g", now=at(2))
    assert again is not None
    assert again.attempts == 2
    deliveries.finish(guid="g", status="done", outcome="ok", now=at(3))
    later = at(86400)
    assert deliveries.claim(guid="g", now=later, stale_before=later) is None  # payload dropped
    assert deliveries.pending(limit=10, before=later, stuck_before=later) == []


@ON_DELIVERIES
def test_deliveries_only_waiting_ones_with_a_payload_are_claimed(deliveries: Deliveries) -> None:
    _record(deliveries, "ignored", status="ignored")
    _record(deliveries, "failed", status="failed")
    deliveries.record(
        guid="no-payload", event="issues", action="", payload=None, status="pending", now=T0
    )
    for guid in ("ignored", "failed", "no-payload", "unknown"):
        assert deliveries.claim(guid=guid, now=T0) is None, guid
    deliveries.release(guid="unknown", outcome="", now=T0)  # nothing to do, no error
    deliveries.finish(guid="unknown", status="done", outcome="", now=T0)
    assert deliveries.pending(limit=10) == ["no-payload"]


@ON_DELIVERIES
def test_deliveries_a_restart_finds_what_was_interrupted(deliveries: Deliveries) -> None:
    for n, guid in enumerate(("a", "b", "c", "d")):
        _record(deliveries, guid, now=at(n))
    _record(deliveries, "e", status="processing", now=at(4))  # the receiver took it itself
    deliveries.claim(guid="b", now=at(5))  # a crash happened while "b" was being processed
    deliveries.finish(guid="c", status="done", outcome="ok", now=at(5))
    started = at(60)
    assert deliveries.pending(limit=10, before=started, stuck_before=started) == [
        "a", "b", "d", "e",
    ]  # fmt: skip
    assert deliveries.pending(limit=2, before=started, stuck_before=started) == ["a", "b"]
    assert deliveries.pending(limit=10, before=started) == ["a", "d"]  # "b" may still run
    assert deliveries.pending(limit=10, before=at(1), stuck_before=at(1)) == ["a"]
    assert deliveries.claim(guid="b", now=started) is None  # not stuck without stale_before
    taken = deliveries.claim(guid="b", now=started, stale_before=started)
    assert taken is not None
    assert taken.attempts == 2
    resumed = deliveries.claim(guid="e", now=started, stale_before=started)
    assert resumed is not None
    assert resumed.attempts == 1


# --- ReportRepository: week claims and the runs' read models --------------------------------


@dataclass
class Reports:
    uow: ReportsUowFactory
    add_run: Callable[[str, datetime, dict[str, int]], None]


@pytest.fixture
def reports(impl: str, request: pytest.FixtureRequest) -> Reports:
    if impl == "fake":
        data = FakeReportData()
        return Reports(FakeReportsUowFactory(data), lambda s, t, c: _ignore(data.add_run(s, t, c)))
    engine = store_engine(request)

    def add_run(suite: str, started_at: datetime, counts: dict[str, int]) -> None:
        run = NewRun(
            suite=suite, environment="staging", branch="main", commit=None, ci_url=None,
            started_at=started_at, ingested_at=started_at, format="json", counts=counts,
            tests=sum(counts.values()), failure_count=0, report_digest=uuid4().hex,
            knowledge_digest="kb", source="test",
        )  # fmt: skip
        with SqlUnitOfWork(engine) as uow:
            uow.runs.add(run=run)
            uow.commit()

    return Reports(uow_factory(engine), add_run)


def _ignore(_value: object) -> None:
    return None


def test_reports_a_week_is_claimed_once_and_only_on_commit(reports: Reports) -> None:
    with reports.uow(write=True) as tx:
        assert tx.reports.claimed_weeks(suite="s") == set()
        assert tx.reports.claim_week(suite="s", week="2026-W46", now=T0)
        assert tx.reports.claimed_weeks(suite="s") == {"2026-W46"}  # seen in its transaction
    # Left without commit: the claim is gone, as after a crash.
    with reports.uow(write=True) as tx:
        assert tx.reports.claimed_weeks(suite="s") == set()
        assert tx.reports.claim_week(suite="s", week="2026-W46", now=T0)
        assert tx.reports.claim_week(suite="other", week="2026-W46", now=T0)
        tx.commit()
    with reports.uow(write=True) as tx:
        assert not tx.reports.claim_week(suite="s", week="2026-W46", now=at(1))
        assert tx.reports.claim_week(suite="s", week="2026-W47", now=at(1))
        tx.commit()
    with reports.uow() as tx:
        assert tx.reports.claimed_weeks(suite="s") == {"2026-W46", "2026-W47"}
        assert tx.reports.claimed_weeks(suite="other") == {"2026-W46"}
        assert tx.reports.claimed_weeks(suite="none") == set()


def test_reports_suites_first_runs_and_recent_runs(reports: Reports) -> None:
    with reports.uow() as tx:
        assert tx.reports.suites() == []
        assert tx.reports.first_run_at(suite="b") is None
    day = timedelta(days=1)
    reports.add_run("b", T0, {"passed": 3, "failed": 1})
    reports.add_run("b", T0 - 2 * day, {"passed": 4})
    reports.add_run("a", T0 + day, {"passed": 1, "error": 1})
    with reports.uow() as tx:
        assert tx.reports.suites() == ["a", "b"]
        assert tx.reports.first_run_at(suite="b") == T0 - 2 * day
        assert tx.reports.first_run_at(suite="a") == T0 + day
        runs = tx.reports.recent_runs(suite="b", until=T0, limit=5)
        assert [(r.suite, r.started_at, r.tests, r.counts, r.classifications) for r in runs] == [
            ("b", T0, 4, {"passed": 3, "failed": 1}, {}),
            ("b", T0 - 2 * day, 4, {"passed": 4}, {}),
        ]
        assert len(tx.reports.recent_runs(suite="b", until=T0 - day, limit=5)) == 1
        assert len(tx.reports.recent_runs(suite="b", until=T0, limit=1)) == 1


def test_reports_objective_inputs_and_pass_rates_of_runs(reports: Reports) -> None:
    day = timedelta(days=1)
    for n in range(5):
        reports.add_run("s", T0 - n * day, {"passed": 3, "failed": 1})
    reports.add_run("s", T0 - 2 * day, {"passed": 4})
    with reports.uow() as tx:
        assert (
            tx.reports.objective_inputs(suite="x", at=T0, days=3, min_coverage=0.9, tz=UTC) is None
        )
        inputs = tx.reports.objective_inputs(suite="s", at=T0, days=3, min_coverage=0.9, tz=UTC)
        assert inputs is not None
        assert (inputs.suite, inputs.days, inputs.first_run_at) == ("s", 3, T0 - 4 * day)
        assert sorted(inputs.run_times) == [T0 - 2 * day, T0 - 2 * day, T0 - day, T0]
        assert list(inputs.regressions) == []  # runs without failures rows regress nothing
        start = datetime(2026, 11, 17, tzinfo=UTC)
        rates = tx.reports.daily_pass_rate(suite="s", start=start, end=start + 4 * day, tz=UTC)
        assert rates == [
            (start.date(), 0.75),
            ((start + day).date(), 7 / 8),
            ((start + 2 * day).date(), 0.75),
            ((start + 3 * day).date(), 0.75),
        ]
