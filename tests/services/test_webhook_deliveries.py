"""The deliveries table on real SQLite and PostgreSQL: dedupe, claims, restarts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.store.deliveries import EngineDeliveryStore

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


def test_a_guid_is_stored_once(engine: Engine) -> None:
    store = EngineDeliveryStore(engine)
    assert store.record(
        guid="g", event="issues", action="closed", payload=b"{}", status="pending", now=T0
    )
    assert not store.record(
        guid="g", event="issues", action="closed", payload=b"{}", status="pending", now=T0
    )


def test_concurrent_duplicates_store_one_row(engine: Engine) -> None:
    store = EngineDeliveryStore(engine)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        results.append(
            store.record(
                guid="same", event="issues", action="", payload=b"{}", status="pending", now=T0
            )
        )

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.pending(limit=10) == ["same"]


def test_claim_release_finish(engine: Engine) -> None:
    store = EngineDeliveryStore(engine)
    store.record(guid="g", event="issues", action="", payload=b"{1}", status="pending", now=T0)
    claimed = store.claim(guid="g", now=T0)
    assert claimed is not None
    assert (claimed.event, claimed.payload, claimed.attempts) == ("issues", b"{1}", 1)
    assert store.claim(guid="g", now=T0) is None  # processing: nobody else takes it
    assert store.pending(limit=10) == []
    store.release(guid="g", outcome="retry", now=T0)
    assert store.claim(guid="g", now=T0).attempts == 2  # type: ignore[union-attr]
    store.finish(guid="g", status="done", outcome="ok", now=T0)
    assert (
        store.claim(guid="g", now=T0 + timedelta(days=1), stale_before=T0 + timedelta(days=1))
        is None
    )
    later = T0 + timedelta(days=1)
    assert store.pending(limit=10, before=later, stuck_before=later) == []


def test_a_restart_finds_what_was_interrupted(engine: Engine) -> None:
    store = EngineDeliveryStore(engine)
    for guid in ("a", "b", "c"):
        store.record(guid=guid, event="issues", action="", payload=b"{}", status="pending", now=T0)
    store.claim(guid="b", now=T0)  # a crash happened while "b" was being processed
    store.finish(guid="c", status="done", outcome="ok", now=T0)
    started = T0 + timedelta(minutes=1)
    assert store.pending(limit=10, before=started, stuck_before=started) == ["a", "b"]
    assert store.pending(limit=10, before=started) == ["a"]  # "b" may still be running
    assert store.pending(limit=10, before=T0, stuck_before=T0) == []  # nothing older than T0
    assert store.claim(guid="b", now=started, stale_before=started) is not None
