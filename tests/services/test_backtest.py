"""Backtest: replay stored failures against a changed knowledge base."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.core.model import Failure, Outcome, Phase
from bot.services.backtest import backtest
from bot.services.corrections import link
from bot.services.ingest import ingest_run
from bot.services.run_meta import RunMeta
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import REDIS_DOWN, day, failure, knowledge, make_run

# v2: the cart rule no longer matches, and "expected 200, got 500" becomes issue #555.
V2_CART = """
issue = 700
title = "Cart total is off by one"
category = "product"

[[rules]]
id = "cart-total"
nodeid = "tests/test_cart.py::never"
"""
V2_STATUS = """
issue = 555
title = "API answers 500"
category = "product"

[[rules]]
id = "status-500"
message = 'expected 200, got 500'
"""


def test_backtest_lists_new_lost_and_changed_matches(engine: Engine) -> None:
    run = make_run(
        ["t::ok"],
        [
            failure("t::redis", phase=Phase.SETUP, **REDIS_DOWN),
            failure("tests/test_cart.py::test_total", message="total 3 != 4"),
            failure("t::status", message="expected 200, got 500"),
            failure("t::linked", message="something else"),
        ],
        flaky=["t::wobbly"],
    )
    with SqlUnitOfWork(engine) as uow:
        link(uow, issue=42, target="t::linked", by="carol", now=day(0))
        ingest_run(uow, knowledge(), run, RunMeta(suite="e2e"), "d1", now=day(0))
        uow.commit()
    v2 = knowledge(**{"issues/700-cart.toml": V2_CART, "issues/555-status.toml": V2_STATUS})
    with SqlUnitOfWork(engine, write=False) as uow:
        same = backtest(uow, knowledge())
        result = backtest(uow, v2)
    assert same.replayed == 4  # the flaky pass is not replayed
    assert same.counts == {"new_match": 0, "lost_match": 0, "changed_issue": 0}
    assert same.changes == ()
    assert result.counts == {"new_match": 1, "lost_match": 1, "changed_issue": 0}
    by_node = {c.nodeid: c for c in result.changes}
    assert by_node["t::status"].kind == "new_match"
    assert (by_node["t::status"].after_issue, by_node["t::status"].after_rule) == (
        555,
        "555-status#status-500",
    )
    lost = by_node["tests/test_cart.py::test_total"]
    assert (lost.kind, lost.before_issue, lost.after_issue) == ("lost_match", 700, None)


def test_backtest_sees_an_issue_change_and_respects_since(engine: Engine) -> None:
    redis = failure("t::redis", phase=Phase.SETUP, **REDIS_DOWN)
    for n in (0, 5):
        with SqlUnitOfWork(engine) as uow:
            ingest_run(uow, knowledge(), make_run([], [redis]), RunMeta("e2e"), f"d{n}", now=day(n))
            uow.commit()
    moved = """
issue = 1111
title = "Redis, filed again"
category = "infrastructure"
priority = 10

[[rules]]
id = "redis"
exception = ["redis.exceptions.ConnectionError"]
"""
    kb = knowledge(**{"issues/1111-redis.toml": moved})
    with SqlUnitOfWork(engine, write=False) as uow:
        everything = backtest(uow, kb)
        recent = backtest(uow, kb, since=day(3))
        capped = backtest(uow, kb, max_changes=1)
    assert everything.counts["changed_issue"] == 2
    assert recent.counts["changed_issue"] == 1
    assert recent.replayed == 1
    assert len(capped.changes) == 1
    assert capped.counts["changed_issue"] == 2
    change = everything.changes[0]
    assert (change.before_issue, change.after_issue) == (1029, 1111)
    assert change.after_rule == "1111-redis#redis"


def test_long_failure_text_keeps_the_error_lines_for_replay(engine: Engine) -> None:
    frames = "\n".join(f"src/app/layer_{i}.py:{i}: in handler_{i}" for i in range(500))
    long = Failure(
        "t::deep",
        Phase.CALL,
        Outcome.FAILED,
        "RuntimeError",
        ("RuntimeError",),
        "worker lost",
        f"{frames}\nE       RuntimeError: worker lost: shard 7 gone\n",
    )
    with SqlUnitOfWork(engine) as uow:
        result = ingest_run(uow, knowledge(), make_run([], [long]), RunMeta("e2e"), "d", now=day(0))
        uow.commit()
    with SqlUnitOfWork(engine, write=False) as uow:
        [stored] = uow.failures.for_run(run_id=result.run_id)
        shards = """
issue = 77
title = "Shards go missing"
category = "infrastructure"

[[rules]]
id = "shard-gone"
text = 'shard \\d+ gone'
"""
        replayed = backtest(uow, knowledge(**{"issues/77-shards.toml": shards}))
    assert len(stored.text) <= 2000
    assert stored.text.startswith("src/app/layer_0.py")
    assert stored.text.rstrip().endswith("shard 7 gone")
    assert [(c.kind, c.after_issue) for c in replayed.changes] == [("new_match", 77)]
