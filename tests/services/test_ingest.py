"""Ingest on real SQLite and PostgreSQL: idempotency, matching, classification, state, clusters."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from bot.core.classify import FlakyPolicy
from bot.core.errors import TriageError
from bot.core.model import Phase, TestRun
from bot.services.corrections import link, set_issue_state
from bot.services.ingest import IngestOptions, IngestResult, ingest_run
from bot.services.run_meta import RunMeta
from bot.store.tables import Cluster, FailureRow, Run, SuiteTest
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import PG_DOWN, REDIS_DOWN, day, failure, knowledge, make_run

KB = knowledge()
M = TypeVar("M", bound=SQLModel)
META = RunMeta(suite="e2e", environment="staging", branch="main", commit="abc123")


def ingest(
    engine: Engine,
    run: TestRun,
    digest: str,
    *,
    at: datetime | None = None,
    meta: RunMeta = META,
) -> IngestResult:
    meta = replace(meta, started_at=at) if at is not None else meta
    with SqlUnitOfWork(engine) as uow:
        result = ingest_run(uow, KB, run, meta, digest, now=day(100))
        uow.commit()
    return result


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def only(engine: Engine, table: type[M]) -> M:
    with Session(engine) as session:
        return session.exec(select(table)).one()


def classes(result: IngestResult) -> dict[str, str]:
    return {v.nodeid: v.classification.value for v in result.verdicts}


def test_same_report_twice_gives_the_same_run_and_no_new_rows(engine: Engine) -> None:
    run = make_run(["t::ok"], [failure("t::a"), failure("t::b", **REDIS_DOWN)])
    first = ingest(engine, run, "digest-1", at=day(0))
    again = ingest(engine, run, "digest-1", at=day(0))
    assert first.created
    assert not again.created
    assert again.run_id == first.run_id
    assert again.summary == first.summary
    assert (count(engine, Run), count(engine, FailureRow), count(engine, Cluster)) == (1, 2, 1)
    with engine.connect() as conn:
        assert conn.execute(select(Cluster.count, Cluster.runs)).one() == (1, 1)  # type: ignore[call-overload]


def test_same_digest_in_another_environment_is_another_run(engine: Engine) -> None:
    run = make_run(["t::ok"])
    first = ingest(engine, run, "d", at=day(0))
    other = ingest(engine, run, "d", at=day(0), meta=RunMeta(suite="e2e", environment="prod"))
    assert other.created
    assert other.run_id != first.run_id


def test_summary_counts_issues_and_infrastructure_regressions(engine: Engine) -> None:
    run = make_run(
        ["t::ok1", "t::ok2"],
        [
            failure("t::redis", phase=Phase.SETUP, **REDIS_DOWN),
            failure("t::pg", phase=Phase.SETUP, **PG_DOWN),
            failure("t::product"),
        ],
        flaky=["t::wobbly"],
    )
    result = ingest(engine, run, "d1", at=day(0))
    summary = result.summary
    assert summary.outcomes == {"passed": 2, "flaky": 1, "error": 2, "failed": 1}
    assert summary.classifications == {
        "known": 1,
        "recurred": 0,
        "flaky": 1,
        "new": 2,
        "persistent": 0,
    }
    assert summary.known_issues == {1029: 1}
    assert [(r.nodeid, r.phase, r.classification.value) for r in summary.regressions] == [
        ("t::pg", "setup", "new")
    ]
    assert summary.regressions[0].exception == "ConnectionRefusedError"
    assert len(summary.regressions[0].fingerprint) == 16
    by_node = {v.nodeid: v for v in result.verdicts}
    assert by_node["t::redis"].rule == "1029-redis#redis-client-error"
    assert by_node["t::wobbly"].phase == "call"
    assert by_node["t::wobbly"].outcome == "flaky"


def test_persistent_new_and_recurred_against_the_previous_run(engine: Engine) -> None:
    ingest(
        engine, make_run(["t::b"], [failure("t::a"), failure("t::r", **REDIS_DOWN)]), "1", at=day(0)
    )
    with SqlUnitOfWork(engine) as uow:
        set_issue_state(uow, number=1029, state="closed", title="Redis", updated_at=day(0))
        uow.commit()
    second = ingest(
        engine,
        make_run(
            [], [failure("t::a"), failure("t::b"), failure("t::c"), failure("t::r", **REDIS_DOWN)]
        ),
        "2",
        at=day(1),
    )
    assert classes(second) == {
        "t::a": "persistent",
        "t::b": "new",
        "t::c": "new",
        "t::r": "recurred",
    }


def test_a_backfilled_run_from_before_the_closure_is_known_not_recurred(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        set_issue_state(uow, number=1029, state="closed", title="Redis", updated_at=day(10))
        uow.commit()
    before = ingest(engine, make_run([], [failure("t::r", **REDIS_DOWN)]), "old", at=day(3))
    after = ingest(engine, make_run([], [failure("t::r", **REDIS_DOWN)]), "new", at=day(11))
    assert classes(before) == {"t::r": "known"}
    assert before.summary.regressions == ()
    assert classes(after) == {"t::r": "recurred"}


def test_flipping_test_becomes_flaky(engine: Engine) -> None:
    got = []
    for i, failed in enumerate([False, True, False, True, True]):
        run = make_run([], [failure("t::x")]) if failed else make_run(["t::x"])
        got.append(classes(ingest(engine, run, f"d{i}", at=day(i))).get("t::x"))
    # P, F (1 flip: new), P, F (3 flips in the window: flaky), F again (still 3 flips).
    assert got == [None, "new", None, "flaky", "flaky"]


def test_flips_follow_the_settings(engine: Engine) -> None:
    options = IngestOptions(flaky=FlakyPolicy(flips=2, window=3))
    got = []
    for i, failed in enumerate([True, False, True, True, True]):
        run = make_run([], [failure("t::x")]) if failed else make_run(["t::x"])
        with SqlUnitOfWork(engine) as uow:
            meta = replace(META, started_at=day(i))
            result = ingest_run(uow, KB, run, meta, f"d{i}", now=day(i), options=options)
            uow.commit()
        got.append(classes(result).get("t::x"))
    # Window of 3 runs: F P F has 2 flips; P F F only one; F F F none.
    assert got == ["new", None, "flaky", "persistent", "persistent"]


def test_manual_link_wins_over_the_rules(engine: Engine) -> None:
    redis = failure("t::r", **REDIS_DOWN)
    with SqlUnitOfWork(engine) as uow:
        link(uow, issue=4242, target="t::r*", by="alice", now=day(0))
        uow.commit()
    result = ingest(engine, make_run([], [redis, failure("t::other")]), "1", at=day(0))
    by_node = {v.nodeid: v for v in result.verdicts}
    assert by_node["t::r"].known_issue == 4242
    assert by_node["t::r"].rule is not None
    assert by_node["t::r"].rule.startswith("manual#")
    assert by_node["t::other"].known_issue is None


def test_fingerprint_link_matches_the_same_failure_anywhere(engine: Engine) -> None:
    first = ingest(engine, make_run([], [failure("t::a", message="boom 7")]), "1", at=day(0))
    fp = first.verdicts[0].fingerprint
    with SqlUnitOfWork(engine) as uow:
        assert link(uow, issue=700, target=fp, by="bob", now=day(0)).kind == "fingerprint"
        uow.commit()
    second = ingest(engine, make_run([], [failure("t::z", message="boom 9")]), "2", at=day(1))
    assert second.verdicts[0].known_issue == 700
    assert second.verdicts[0].category.value == "product"


def test_backfilled_run_keeps_newer_test_state(engine: Engine) -> None:
    ingest(engine, make_run(["t::x"]), "new", at=day(10))
    old = ingest(engine, make_run([], [failure("t::x")]), "old", at=day(3))
    assert classes(old) == {"t::x": "new"}
    row = only(engine, SuiteTest)  # the suite's test is listed once, whatever the order
    assert (row.suite, row.environment, row.nodeid) == ("e2e", "staging", "t::x")
    # A run between the two sees the backfilled failure as its previous run.
    middle = ingest(engine, make_run([], [failure("t::x")]), "mid", at=day(5))
    assert classes(middle) == {"t::x": "persistent"}


def test_clusters_add_up_across_runs(engine: Engine) -> None:
    run = make_run([], [failure("t::a", message="boom 1"), failure("t::b", message="boom 2")])
    ingest(engine, run, "1", at=day(2))
    ingest(engine, run, "2", at=day(0))
    cluster = only(engine, Cluster)
    assert (cluster.count, cluster.runs) == (4, 2)
    assert cluster.first_seen.replace(tzinfo=None) == day(0).replace(tzinfo=None)
    assert cluster.last_seen.replace(tzinfo=None) == day(2).replace(tzinfo=None)
    assert cluster.example_nodeid == "t::a"
    assert "[[rules]]" in cluster.suggested_rule


def test_run_time_defaults_to_the_report_then_now(engine: Engine) -> None:
    created = day(7) - timedelta(hours=3)
    ingest(engine, make_run(["t::a"], created=created), "1")
    ingest(engine, make_run(["t::b"]), "2")
    with engine.connect() as conn:
        times = [
            t.replace(tzinfo=None)
            for t in conn.execute(select(Run.started_at).order_by(Run.id)).scalars()
        ]
    assert times == [created.replace(tzinfo=None), day(100).replace(tzinfo=None)]


@pytest.mark.parametrize("suite", ["", "   ", "x" * 201, "bad\nname"])
def test_bad_suite_names_are_rejected(engine: Engine, suite: str) -> None:
    with SqlUnitOfWork(engine) as uow, pytest.raises(TriageError) as raised:
        ingest_run(uow, KB, make_run(["t::a"]), RunMeta(suite=suite), "d", now=day(0))
    assert raised.value.reason == "bad_meta"
