"""Migration 0003 masks credentials in rows stored before ingest masked them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.store.engine import make_engine
from bot.store.migrate import upgrade

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PG = "postgres://u:PASS@db.internal:5432/app"
CI = "https://user:PASS@ci.example/runs/7"
NODE = "tests/test_db.py::test_connect[password=PASS]"
NODE_TWIN = "tests/test_db.py::test_connect[password=OTHERPASS]"


def _rows() -> dict[str, list[dict[str, Any]]]:
    run = {
        "id": 1, "suite": "staging-e2e", "environment": "staging", "branch": "main",
        "commit": "abc", "ci_url": CI, "started_at": AT, "format": "json", "source": "api",
        "ingested_at": AT, "counts": {"failed": 1}, "tests": 2, "failure_count": 1,
        "report_digest": "d1", "knowledge_digest": "k1",
    }  # fmt: skip
    failure = {
        "id": 1, "run_id": 1, "suite": "staging-e2e", "environment": "staging",
        "started_at": AT, "nodeid": NODE, "phase": "call", "outcome": "failed",
        "exception": "OperationalError", "chain": "OperationalError",
        "message": f"OperationalError: cannot connect to {PG}",
        "text": f"E   OperationalError: password=PASS refused by {PG}",
        "keywords": f"{NODE}\ntest_connect", "fingerprint": "0123456789abcdef",
        "signature_version": 1, "classification": "new", "category": "product",
    }  # fmt: skip
    state = {
        "suite": "staging-e2e", "environment": "staging", "last_outcome": "failed",
        "last_run_id": 1, "last_run_at": AT, "history": "F",
    }  # fmt: skip
    return {
        "runs": [run],
        "failures": [failure],
        "test_states": [
            {"id": 1, "nodeid": NODE, **state},
            {"id": 2, "nodeid": NODE_TWIN, **state},
        ],
        "clusters": [
            {
                "id": 1,
                "fingerprint": "0123456789abcdef",
                "suite": "staging-e2e",
                "first_seen": AT,
                "last_seen": AT,
                "count": 1,
                "runs": 1,
                "exception": "OperationalError",
                "example_nodeid": NODE,
                "example_message": f"cannot connect to {PG}",
                "suggested_rule": f'message = "cannot connect to {PG}"',
            }
        ],
        "wrong_matches": [{"id": 1, "run_id": 1, "nodeid": NODE, "reported_by": "mona", "at": AT}],
        "webhook_deliveries": [
            {
                "guid": "g-1",
                "event": "workflow_run",
                "action": "completed",
                "status": "done",
                "attempts": 1,
                "outcome": "run 1 created from token=ghp_PASSPASSPASS/report.json",
                "received_at": AT,
                "updated_at": AT,
            }
        ],
    }


def _insert_raw(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for name, rows in _rows().items():
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            conn.execute(table.insert(), rows)


def _every_text(engine: sa.Engine) -> list[str]:
    texts = []
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        for name in _rows():
            if name not in present:  # test_states gives way to suite_tests in 0006
                continue
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            for row in conn.execute(sa.select(table)):
                texts.extend(str(v) for v in row)
    return texts


def test_upgrade_masks_rows_stored_in_clear(database_url: str) -> None:
    upgrade(database_url, revision="0001")
    engine = make_engine(database_url)
    try:
        _insert_raw(engine)
        assert any("PASS" in t for t in _every_text(engine))
        upgrade(database_url, revision="0003")
        texts = _every_text(engine)
        assert [t for t in texts if "PASS" in t] == []
        with engine.connect() as conn:
            run = conn.execute(sa.text("SELECT ci_url, branch FROM runs")).one()
            assert run == ("https://***@ci.example/runs/7", "main")
            nodeids = conn.execute(sa.text("SELECT nodeid FROM test_states")).scalars().all()
            # Two ids that differed only in the secret: one row is kept.
            assert nodeids == ["tests/test_db.py::test_connect[password=***]"]
            message = conn.execute(sa.text("SELECT message FROM failures")).scalar_one()
            assert (
                message == "OperationalError: cannot connect to postgres://***@db.internal:5432/app"
            )
        upgrade(database_url)  # later migrations carry the masked rows on
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT nodeid FROM suite_tests")).scalars().all()
        assert kept == ["tests/test_db.py::test_connect[password=***]"]
        assert [t for t in _every_text(engine) if "PASS" in t] == []
        upgrade(database_url)  # a second start finds nothing to do
    finally:
        engine.dispose()
