"""The ingest service (used by the API, the CLI and the webhook) checks every metadata field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from bot.core.errors import TriageError
from bot.services.ingest import ingest_run
from bot.services.run_meta import RunMeta
from bot.store.tables import Run
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import day, knowledge, make_run

KB = knowledge()
META = RunMeta(suite="e2e", branch="main", commit="abc", ci_url="https://ci.test/1")


def _ingest(engine: Engine, meta: RunMeta, *, created: datetime | None = None) -> None:
    with SqlUnitOfWork(engine) as uow:
        ingest_run(uow, KB, make_run(["t::a"], created=created), meta, "d", now=day(0))
        uow.commit()


def _runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Run)).scalar_one())


@pytest.mark.parametrize(
    "changes",
    [
        {"branch": "a\x00b"},
        {"branch": "a\u0085b"},
        {"branch": "x" * 501},
        {"commit": "ab\x7fcd"},
        {"ci_url": "https://ci.test/\x00"},
        {"ci_url": "javascript:alert(1)"},
        {"ci_url": "https://ci.test/a b"},
        {"environment": "qa\x00"},
        {"suite": "e2e\x00"},
        {"started_at": datetime(1999, 12, 31, 23, tzinfo=UTC)},
        {"started_at": datetime(1, 1, 1)},
        {"started_at": day(0) + timedelta(days=1, minutes=1)},
    ],
)
def test_bad_meta_is_refused_and_nothing_is_stored(
    engine: Engine, changes: dict[str, object]
) -> None:
    with pytest.raises(TriageError) as raised:
        _ingest(engine, replace(META, **changes))  # type: ignore[arg-type]
    assert raised.value.reason == "bad_meta"
    assert _runs(engine) == 0


@pytest.mark.parametrize("created", [datetime(1970, 1, 1, tzinfo=UTC), day(0) + timedelta(days=2)])
def test_a_report_dated_out_of_range_is_refused(engine: Engine, created: datetime) -> None:
    with pytest.raises(TriageError) as raised:
        _ingest(engine, META, created=created)
    assert raised.value.reason == "bad_meta"
    assert _runs(engine) == 0


def test_a_day_of_clock_skew_and_http_urls_are_fine(engine: Engine) -> None:
    _ingest(
        engine,
        replace(META, ci_url="http://10.0.0.1:8080/job/1", started_at=day(0) + timedelta(hours=23)),
    )
    assert _runs(engine) == 1
