"""Ingest real pytest reports (pytester) in every format, gzip too; bad bytes get clear errors."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.core.errors import TriageError
from bot.core.model import ReportFormat
from bot.services.ingest import IngestOptions, IngestResult, ingest_report
from bot.services.run_meta import RunMeta
from bot.store.uow import SqlUnitOfWork
from tests.core.report_helpers import run_pytest_reports
from tests.store.helpers import day, knowledge

SUITE = """
    import pytest

    @pytest.fixture
    def redis_client():
        import redis
        raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379.")

    def test_ok():
        pass

    def test_product():
        assert 1 + 1 == 3

    def test_needs_redis(redis_client):
        pass

    def test_no_fixture(real_services):
        pass
"""
KB = knowledge()
META = RunMeta(suite="e2e")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests run on SQLite only."""
    return sqlite_url


def ingest(engine: Engine, data: bytes, n: int = 0, **options: int) -> IngestResult:
    with SqlUnitOfWork(engine) as uow:
        meta = replace(META, started_at=day(n))
        result = ingest_report(uow, KB, data, meta, now=day(n), options=IngestOptions(**options))
        uow.commit()
    return result


def test_every_format_and_gzip(pytester: pytest.Pytester, engine: Engine) -> None:
    paths = run_pytest_reports(pytester, SUITE)
    data = paths[ReportFormat.JSON_REPORT].read_bytes()
    first = ingest(engine, data)
    assert first.created
    got = {(v.nodeid.rpartition("::")[2], v.phase, v.classification.value) for v in first.verdicts}
    assert got == {
        ("test_product", "call", "new"),
        ("test_needs_redis", "setup", "known"),
        ("test_no_fixture", "setup", "new"),
    }
    assert first.summary.outcomes == {"passed": 1, "failed": 1, "error": 2}
    assert [r.nodeid.rpartition("::")[2] for r in first.summary.regressions] == ["test_no_fixture"]
    # The same report gzip-compressed has the same digest: the same run.
    again = ingest(engine, gzip.compress(data), 1)
    assert (again.run_id, again.created) == (first.run_id, False)
    # The same pytest run in the other formats is another report: its failures persist.
    for n, fmt in enumerate((ReportFormat.REPORT_LOG, ReportFormat.JUNIT_XML), start=2):
        other = ingest(engine, paths[fmt].read_bytes(), n)
        assert other.created
        classes = {v.nodeid.rpartition("::")[2]: v.classification.value for v in other.verdicts}
        assert classes == {
            "test_product": "persistent",
            "test_needs_redis": "known",
            "test_no_fixture": "persistent",
        }


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"tests": [', None),
        (b"", None),
        (b"\x1f\x8b\x08\x00garbage", "bad_gzip"),
        (b"not a report at all", None),
    ],
)
def test_bad_reports_raise_a_triage_error_and_store_nothing(
    engine: Engine, data: bytes, reason: str | None
) -> None:
    with pytest.raises(TriageError) as raised:
        ingest(engine, data)
    if reason:
        assert raised.value.reason == reason
    with SqlUnitOfWork(engine, write=False) as uow:
        assert uow.runs.page(suite=None, offset=0, limit=10) == ([], 0)


def test_reports_past_the_size_limit_are_refused(engine: Engine) -> None:
    big = b'{"tests": []}' + b" " * 2000
    for data in (big, gzip.compress(big)):
        with pytest.raises(TriageError) as raised:
            ingest(engine, data, max_bytes=1000)
        assert raised.value.reason == "too_large"


def test_multi_member_gzip_is_digested_as_it_is_read(
    pytester: pytest.Pytester, engine: Engine
) -> None:
    """Two reportlogs sharing their first gzip member are two runs; a re-upload is one."""
    lines = run_pytest_reports(pytester, SUITE)[ReportFormat.REPORT_LOG].read_bytes()
    head, _, rest = lines.partition(b"\n")
    first = gzip.compress(head + b"\n", mtime=0)
    whole = first + gzip.compress(rest, mtime=0)
    fewer = first + gzip.compress(b"\n".join(rest.split(b"\n")[:-3]) + b"\n", mtime=0)
    one = ingest(engine, whole)
    two = ingest(engine, fewer, n=1)
    assert one.created
    assert two.created
    assert two.run_id != one.run_id
    again = ingest(engine, whole + b"\x00\x00", n=2)
    assert (again.created, again.run_id) == (False, one.run_id)


TIMED = """
    import time

    def test_fast():
        pass

    def test_slow():
        time.sleep(0.02)

    def test_broken():
        time.sleep(0.01)
        assert 1 + 1 == 3
"""


def test_one_session_in_every_format_is_one_run(pytester: pytest.Pytester, engine: Engine) -> None:
    """JSON, JUnit XML, the report log, gzip and a re-serialised JSON of one session: one run."""
    paths = run_pytest_reports(pytester, TIMED)
    first = ingest_now(engine, paths[ReportFormat.JSON_REPORT].read_bytes())
    assert first.created
    reserialised = json.dumps(json.loads(paths[ReportFormat.JSON_REPORT].read_bytes()), indent=1)
    others = [
        paths[ReportFormat.JUNIT_XML].read_bytes(),
        gzip.compress(paths[ReportFormat.REPORT_LOG].read_bytes()),
        reserialised.encode(),
    ]
    for data in others:
        again = ingest_now(engine, data)
        assert (again.created, again.run_id) == (False, first.run_id)
        assert again.summary == first.summary
    # Another session of the same suite (same tests and outcomes, other timings): a new run.
    # (Sleeps of another length: two sessions whose every test took the same time to 0.6 ms,
    # started within the tolerance, are one run by design.)
    later = run_pytest_reports(pytester, TIMED.replace("sleep(0.02)", "sleep(0.03)"))
    second = ingest_now(engine, later[ReportFormat.JUNIT_XML].read_bytes())
    assert second.created
    assert second.run_id != first.run_id


def ingest_now(engine: Engine, data: bytes) -> IngestResult:
    """Ingest without started_at: the session's start comes from the report itself."""
    with SqlUnitOfWork(engine) as uow:
        result = ingest_report(uow, KB, data, META, now=day(0) + timedelta(days=400))
        uow.commit()
    return result
