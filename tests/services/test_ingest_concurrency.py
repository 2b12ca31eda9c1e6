"""Concurrent uploads of the same report store one run; different runs of a suite all land."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select

from bot.services.ingest import IngestResult, ingest_run
from bot.services.run_meta import RunMeta
from bot.store.tables import FailureRow, Run
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import day, failure, knowledge, make_run

KB = knowledge()
WORKERS = 6


def _race(engine: Engine, digests: list[str]) -> list[IngestResult]:
    barrier = threading.Barrier(len(digests))
    results: list[IngestResult] = []
    errors: list[BaseException] = []
    nodeids = [f"t::test_{i}" for i in range(200)]

    def work(digest: str) -> None:
        # A different digest is a different session: another test fails (the same content
        # would be the same run, whatever its bytes).
        failing = nodeids[sum(map(ord, digest)) % len(nodeids)]
        passed = [n for n in nodeids if n != failing]
        run = make_run(passed, [failure(failing, message=f"boom {digest}")])
        try:
            barrier.wait()
            with SqlUnitOfWork(engine) as uow:
                result = ingest_run(uow, KB, run, RunMeta(suite="e2e"), digest, now=day(0))
                uow.commit()
            results.append(result)
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d,)) for d in digests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_concurrent_duplicates_store_one_run(engine: Engine) -> None:
    results = _race(engine, ["same"] * WORKERS)
    assert len({r.run_id for r in results}) == 1
    assert sorted(r.created for r in results) == [False] * (WORKERS - 1) + [True]
    assert all(r.summary == results[0].summary for r in results)
    assert (_count(engine, Run), _count(engine, FailureRow)) == (1, 1)


def test_concurrent_different_runs_all_land(engine: Engine) -> None:
    results = _race(engine, [f"d{i}" for i in range(WORKERS)])
    assert all(r.created for r in results)
    assert (_count(engine, Run), _count(engine, FailureRow)) == (WORKERS, WORKERS)
