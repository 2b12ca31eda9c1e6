"""Manual links, wrong matches, issue states and the read models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.core.errors import TriageError
from bot.core.model import Phase
from bot.services.corrections import link, record_wrong_match, set_issue_state, unlink
from bot.services.ingest import ingest_run
from bot.services.queries import known_issues
from bot.services.run_meta import RunMeta
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import REDIS_DOWN, day, failure, knowledge, make_run

KB = knowledge()


def _ingest(engine: Engine, n: int, *failures_: object) -> int:
    run = make_run(["t::ok"], failures_)  # type: ignore[arg-type]
    with SqlUnitOfWork(engine) as uow:
        result = ingest_run(uow, KB, run, RunMeta(suite=f"s{n % 2}"), f"d{n}", now=day(n))
        uow.commit()
    return result.run_id


def test_links_are_created_repointed_and_removed(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        first = link(uow, issue=1, target=" t::a* ", by="alice", now=day(0))
        again = link(uow, issue=2, target="t::a*", by="bob", now=day(1))
        fp = link(uow, issue=3, target="0123456789abcdef", by="bob", now=day(1))
        uow.commit()
    assert (first.kind, first.pattern, first.created) == ("glob", "t::a*", True)
    assert (again.issue, again.created) == (2, False)
    assert fp.kind == "fingerprint"
    with SqlUnitOfWork(engine) as uow:
        assert [(lk.issue, lk.created_by) for lk in uow.links.links()] == [(2, "bob"), (3, "bob")]
        removed = unlink(uow, target="t::a*")
        assert removed is not None
        assert removed.issue == 2
        assert unlink(uow, target="t::a*") is None
        uow.commit()
    with SqlUnitOfWork(engine, write=False) as uow:
        assert [lk.pattern for lk in uow.links.links()] == ["0123456789abcdef"]


@pytest.mark.parametrize("target", ["", "   ", "a b", "x" * 501])
def test_bad_link_patterns_are_rejected(engine: Engine, target: str) -> None:
    with SqlUnitOfWork(engine) as uow, pytest.raises(TriageError) as raised:
        link(uow, issue=1, target=target, by="a", now=day(0))
    assert raised.value.reason == "bad_pattern"


def test_wrong_matches_lower_the_rule_precision(engine: Engine) -> None:
    redis = failure("t::r", phase=Phase.SETUP, **REDIS_DOWN)
    run_ids = [_ingest(engine, n, redis) for n in range(4)]
    with SqlUnitOfWork(engine) as uow:
        wrong = record_wrong_match(
            uow, run_id=run_ids[0], nodeid="t::r", reported_by="d", now=day(5)
        )
        dup = record_wrong_match(uow, run_id=run_ids[0], nodeid="t::r", reported_by="e", now=day(5))
        uow.commit()
    assert (wrong.issue, wrong.rule, wrong.created) == (1029, "1029-redis#redis-client-error", True)
    assert not dup.created
    with SqlUnitOfWork(engine, write=False) as uow:
        issues = {i.number: i for i in known_issues(uow, KB)}
    rule = issues[1029].rules[0]
    assert (rule.matches, rule.wrong, rule.precision) == (4, 1, 0.75)
    assert (issues[1029].occurrences, issues[1029].runs) == (4, 4)
    assert issues[1029].title == "Redis connection failures"
    assert issues[1029].category == "infrastructure"
    unused = issues[700].rules[0]
    assert (unused.rule, unused.matches, unused.precision) == ("700-cart#cart-total", 0, None)


def test_wrong_match_of_an_unknown_failure_is_an_error(engine: Engine) -> None:
    run_id = _ingest(engine, 0, failure("t::a"))
    with SqlUnitOfWork(engine) as uow:
        for rid, nodeid in ((run_id + 100, "t::a"), (run_id, "t::nope")):
            with pytest.raises(TriageError) as raised:
                record_wrong_match(uow, run_id=rid, nodeid=nodeid, reported_by="x", now=day(1))
            assert raised.value.reason == "not_found"


def test_issue_state_keeps_the_newest_news(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        set_issue_state(uow, number=5, state="closed", title="A", updated_at=day(2))
        set_issue_state(uow, number=5, state="open", title="old news", updated_at=day(1))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        [state] = uow.issues.all()
        assert (state.state, state.title, state.updated_at) == ("closed", "A", day(2))
        set_issue_state(uow, number=5, state="open", title="B", updated_at=day(3))
        uow.commit()
    with SqlUnitOfWork(engine, write=False) as uow:
        assert [(s.state, s.title) for s in uow.issues.all()] == [("open", "B")]
        with pytest.raises(TriageError):
            set_issue_state(uow, number=5, state="deleted", updated_at=day(4))


def test_runs_are_paged_newest_first(engine: Engine) -> None:
    ids = [_ingest(engine, n, failure("t::a", message=f"boom {n}")) for n in range(5)]
    with SqlUnitOfWork(engine, write=False) as uow:
        first, total = uow.runs.page(suite=None, offset=0, limit=2)
        last, _ = uow.runs.page(suite=None, offset=4, limit=2)
        _, in_suite = uow.runs.page(suite="s0", offset=0, limit=10)
        detail = uow.runs.get(run_id=ids[0])
        assert uow.runs.get(run_id=9999) is None
        failures = uow.failures.for_run(run_id=ids[0])
        clusters, cluster_total = uow.clusters.top(offset=0, limit=10)
    assert [r.id for r in first] == ids[::-1][:2]
    assert total == 5
    assert [r.id for r in last] == [ids[0]]
    assert in_suite == 3
    assert detail is not None
    assert detail.run.counts == {"passed": 1, "failed": 1}
    [f] = failures
    assert (f.nodeid, f.phase, f.outcome, f.classification, f.category) == (
        "t::a",
        "call",
        "failed",
        "new",
        "product",
    )
    assert f.message == "boom 0"
    assert len(f.fingerprint) == 16
    assert f.known_issue is None
    assert f.rule is None
    [cluster] = clusters
    assert (cluster.count, cluster.runs, cluster_total) == (5, 5, 1)
    assert "exception = 'AssertionError'" in cluster.suggested_rule
