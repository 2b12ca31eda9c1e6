"""Re-judging stored history: a knowledge change, /triage link|unlink|wrong, a test turned flaky.

Real databases (SQLite and PostgreSQL); each test checks the stored failure rows (what the
objective, criteria, dashboard and API read), the clusters and the recorded changes.
"""

from __future__ import annotations

from sqlalchemy import Engine

from bot.config import Settings
from bot.configs import report_config
from bot.core.classify import FlakyPolicy, is_regression
from bot.core.model import Phase
from bot.core.signature import fingerprint
from bot.core.webhook import LinkCommand, StatusCommand, UnlinkCommand, WrongCommand
from bot.ports.store import FailureRecord
from bot.services.ingest import IngestOptions, ingest_run
from bot.services.objective import objective
from bot.services.rejudge import rejudge_knowledge
from bot.services.run_meta import RunMeta
from bot.services.webhook_commands import run_command
from bot.store.reports import uow_factory
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import REDIS_DOWN, day, failure, knowledge, make_run

META = RunMeta(suite="e2e")
AUTH_DOWN = failure("t::login", phase=Phase.SETUP, exception="app.AuthError", message="401")
AUTH = """
issue = 1087
title = "Auth service misconfiguration"
category = "infrastructure"

[[rules]]
id = "auth-error"
exception = "app.AuthError"
"""
KNOWN = {1029: "Redis connection failures", 700: "Cart total is off by one"}


def _ingest(engine: Engine, days: dict[int, list[str] | list[object]], kb: object = None) -> None:
    """Ingest one run a day: a list of failing (Failure) and passing (str) tests."""
    for n, items in days.items():
        passed = [i for i in items if isinstance(i, str)]
        failed = [i for i in items if not isinstance(i, str)]
        with SqlUnitOfWork(engine) as uow:
            ingest_run(
                uow, kb or knowledge(), make_run(passed, failed), META, f"d{n}",  # type: ignore[arg-type]
                now=day(n), options=IngestOptions(),
            )  # fmt: skip
            uow.commit()


def _rows(engine: Engine) -> list[FailureRecord]:
    with SqlUnitOfWork(engine, write=False) as uow:
        return list(uow.failures.replay(since=None))


def _regressions(engine: Engine) -> int:
    return sum(1 for r in _rows(engine) if is_regression(r.classification, r.category))


def _resets(engine: Engine, at: int) -> list[str]:
    """The objective's streak resets, as the API and dashboard compute them."""
    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    found = objective(uow_factory(engine), suite="e2e", at=day(at), config=report_config(settings))
    return [r.nodeid for r in found.resets]


def test_knowledge_change_links_old_failures_and_removes_their_resets(engine: Engine) -> None:
    _ingest(engine, {0: [AUTH_DOWN], 1: [AUTH_DOWN], 2: ["t::login"]})
    assert [r.classification for r in _rows(engine)] == ["new", "persistent"]
    assert _regressions(engine) == 1
    assert _resets(engine, 3) == ["t::login"]
    v2 = knowledge(**{"issues/1087-auth.toml": AUTH})
    with SqlUnitOfWork(engine) as uow:
        first = rejudge_knowledge(uow, knowledge(), now=day(3))  # history's own knowledge
        assert first is not None
        assert first.changes == ()
        result = rejudge_knowledge(uow, v2, now=day(3))
        assert rejudge_knowledge(uow, v2, now=day(3)) is None  # judged with v2 already
        clusters, total = uow.clusters.top(offset=0, limit=10)
        uow.commit()
    assert result is not None
    assert result.scanned == 2
    assert [(c.before_classification, c.after_classification) for c in result.changes] == [
        ("new", "known"),
        ("persistent", "known"),
    ]
    assert {(c.after_issue, c.reason) for c in result.changes} == {(1087, "knowledge")}
    assert _regressions(engine) == 0
    assert _resets(engine, 3) == []
    assert {r.known_issue for r in _rows(engine)} == {1087}
    assert (clusters, total) == ([], 0)  # no unmatched failure left in the cluster
    with SqlUnitOfWork(engine, write=False) as uow:
        recorded, n = uow.judgements.changes(run_id=None, offset=0, limit=10)
    assert n == 2
    assert recorded[0].detail.startswith("knowledge base ")


def test_link_and_unlink_of_a_stored_fingerprint_rejudge_its_failures(engine: Engine) -> None:
    odd = failure("t::search", exception="app.SearchDown", message="search is down")
    _ingest(engine, {0: [odd], 1: [odd], 2: [odd]})
    fp = fingerprint(odd)
    with SqlUnitOfWork(engine) as uow:
        before = run_command(uow, KNOWN, StatusCommand(), issue=1029, user="carol", now=day(3))
        reply = run_command(
            uow, KNOWN, LinkCommand(fp), issue=1029, user="carol", now=day(3), kb=knowledge()
        )
        status = run_command(uow, KNOWN, StatusCommand(), issue=1029, user="carol", now=day(3))
        clusters_linked = uow.clusters.top(offset=0, limit=10)[1]
        uow.commit()
    assert "No matched failures" in before
    assert reply.endswith("Re-judged 3 stored failures.")
    assert "3 failures in 3 runs" in status
    assert clusters_linked == 0
    assert [(r.known_issue, r.classification) for r in _rows(engine)] == [(1029, "known")] * 3
    with SqlUnitOfWork(engine) as uow:
        reply = run_command(
            uow, KNOWN, UnlinkCommand(fp), issue=1029, user="carol", now=day(4), kb=knowledge()
        )
        clusters, _ = uow.clusters.top(offset=0, limit=10)
        changes, total = uow.judgements.changes(run_id=1, offset=0, limit=10)
        uow.commit()
    assert reply.endswith("Re-judged 3 stored failures.")
    assert [r.classification for r in _rows(engine)] == ["new", "persistent", "persistent"]
    assert [(c.fingerprint, c.count, c.runs) for c in clusters] == [(fp, 3, 3)]
    assert [c.reason for c in changes] == ["unlink", "link"]
    assert total == 2
    assert changes[1].detail == f"/triage link by @carol: {fp}"


def test_wrong_match_unlinks_that_failure_only(engine: Engine) -> None:
    redis = failure("t::cache", phase=Phase.SETUP, **REDIS_DOWN)
    _ingest(engine, {0: [redis], 1: [redis]})
    with SqlUnitOfWork(engine) as uow:
        reply = run_command(
            uow, KNOWN, WrongCommand("#2", "t::cache"), issue=1029, user="dan", now=day(2),
            kb=knowledge(),
        )  # fmt: skip
        uow.commit()
    assert reply.endswith("Re-judged 1 stored failure.")
    rows = _rows(engine)
    assert [(r.run_id, r.known_issue, r.classification) for r in rows] == [
        (1, 1029, "known"),
        (2, None, "persistent"),
    ]
    with SqlUnitOfWork(engine) as uow:  # a later knowledge re-judge keeps the person's word
        result = rejudge_knowledge(uow, knowledge(**{"issues/1087-auth.toml": AUTH}), now=day(3))
        uow.commit()
    assert result is not None
    assert result.changes == ()


def test_a_test_judged_flaky_turns_its_earlier_new_failures_flaky(engine: Engine) -> None:
    timeout = failure("t::wobbly", phase=Phase.SETUP, exception="TimeoutError", message="slow")
    _ingest(engine, {0: [timeout], 1: ["t::wobbly"], 2: [timeout], 3: ["t::wobbly"]})
    assert [r.classification for r in _rows(engine)] == ["new", "new"]
    assert _regressions(engine) == 2
    assert _resets(engine, 4) == ["t::wobbly", "t::wobbly"]
    _ingest(engine, {4: [timeout]})
    assert [r.classification for r in _rows(engine)] == ["flaky"] * 3
    assert _regressions(engine) == 0
    assert _resets(engine, 5) == []
    with SqlUnitOfWork(engine, write=False) as uow:
        changes, total = uow.judgements.changes(run_id=None, offset=0, limit=10)
    assert total == 2
    assert {(c.run_id, c.reason, c.before_classification) for c in changes} == {
        (1, "flaky", "new"),
        (3, "flaky", "new"),
    }


def test_flaky_window_bounds_the_rejudge(engine: Engine) -> None:
    timeout = failure("t::wobbly", phase=Phase.SETUP, exception="TimeoutError", message="slow")
    days: dict[int, list[object]] = {0: [timeout]}
    days.update({n: ["t::wobbly"] for n in range(1, 12)})
    _ingest(engine, days)
    policy = FlakyPolicy(flips=2, window=4)
    for n, items in {12: [timeout], 13: ["t::wobbly"], 14: [timeout]}.items():
        with SqlUnitOfWork(engine) as uow:
            passed = [i for i in items if isinstance(i, str)]
            failed = [i for i in items if not isinstance(i, str)]
            ingest_run(
                uow, knowledge(), make_run(passed, failed), META, f"d{n}", now=day(n),  # type: ignore[arg-type]
                options=IngestOptions(flaky=policy),
            )  # fmt: skip
            uow.commit()
    # Day 0 is outside the window of day 14: it stays new; day 12 becomes flaky.
    assert [(r.run_id, r.classification) for r in _rows(engine)] == [
        (1, "new"),
        (13, "flaky"),
        (15, "flaky"),
    ]
