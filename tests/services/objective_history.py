"""Load a history scenario (TOML) into real tables: runs, failures, test states, clusters."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import SQLModel

from bot.store.engine import make_engine
from bot.store.migrate import upgrade

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
RUN_TIME = time(6, 0, tzinfo=UTC)


def load_scenario(name: str) -> dict[str, Any]:
    """Read one scenario file."""
    return tomllib.loads((SCENARIOS / f"{name}.toml").read_text())


def fresh_engine(url: str) -> Engine:
    """Make an engine with every table created."""
    upgrade(url)  # the schema as the service builds it
    return make_engine(url)


def _days(spec: dict[str, Any]) -> list[date]:
    if "range" in spec:
        first, last = (date.fromisoformat(d) for d in spec["range"])
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [date.fromisoformat(d) for d in spec["days"]]


def _failure_row(spec: dict[str, Any], run_id: int, suite: str, at: datetime) -> dict[str, Any]:
    digest = hashlib.sha256(f"{spec['nodeid']}{spec['message']}".encode()).hexdigest()[:16]
    return {
        "run_id": run_id,
        "suite": suite,
        "environment": "",
        "started_at": at,
        "nodeid": spec["nodeid"],
        "phase": spec["phase"],
        "outcome": "error" if spec["phase"] != "call" else "failed",
        "exception": spec.get("exception"),
        "chain": spec.get("exception") or "",
        "message": spec["message"],
        "text": spec["message"],
        "keywords": "",
        "fingerprint": digest,
        "signature_version": 1,
        "known_issue": spec.get("known_issue"),
        "rule": f"issue-{spec['known_issue']}#r1" if spec.get("known_issue") else None,
        "classification": spec["classification"],
        "category": spec["category"],
    }


def seed(engine: Engine, scenario: dict[str, Any]) -> None:
    """Insert the scenario's runs (one a day at 06:00 UTC) and everything else."""
    t = SQLModel.metadata.tables
    suite, tests = scenario["suite"], scenario["tests"]
    first, last = (
        date.fromisoformat(scenario["first_day"]),
        date.fromisoformat(scenario["last_day"]),
    )
    skipped = {date.fromisoformat(d) for d in scenario.get("no_run_days", [])}
    by_day: dict[date, list[dict[str, Any]]] = {}
    for spec in scenario.get("failure", []):
        for day in _days(spec):
            by_day.setdefault(day, []).append(spec)
    with engine.begin() as conn:
        run_id = 0
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            if day in skipped:
                continue
            run_id += 1
            at = datetime.combine(day, RUN_TIME)
            specs = by_day.get(day, [])
            failed = len({s["nodeid"] for s in specs if s["classification"] != "flaky"})
            counts = (
                {"passed": len(tests) - failed, "failed": failed}
                if failed
                else {"passed": len(tests)}
            )
            conn.execute(
                insert(t["runs"]).values(
                    id=run_id,
                    suite=suite,
                    environment="",
                    started_at=at,
                    format="pytest-json-report",
                    source="api",
                    ingested_at=at,
                    counts=counts,
                    tests=len(tests),
                    failure_count=len(specs),
                    report_digest=f"digest-{run_id}",
                    knowledge_digest="",
                )
            )
            if specs:
                conn.execute(
                    insert(t["failures"]), [_failure_row(s, run_id, suite, at) for s in specs]
                )
        last_at = datetime.combine(last, RUN_TIME)
        conn.execute(
            insert(t["suite_tests"]),
            [{"suite": suite, "environment": "", "nodeid": n} for n in tests],
        )
        for c in scenario.get("cluster", []):
            seen = datetime.fromisoformat(c["first_seen"])
            conn.execute(
                insert(t["clusters"]).values(
                    fingerprint=c["fingerprint"],
                    suite=suite,
                    first_seen=seen,
                    last_seen=seen,
                    count=c["count"],
                    runs=c["count"],
                    exception=c.get("exception"),
                    example_nodeid=c["example_nodeid"],
                    example_message=c["example_message"],
                    suggested_rule="",
                )
            )
        for number, title in scenario.get("issues", {}).items():
            conn.execute(
                insert(t["known_issue_states"]).values(
                    number=int(number), state="open", title=title, updated_at=last_at
                )
            )
