"""`triage-bot ingest`, `db upgrade` and `kb backtest` through Typer, on a real SQLite file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import backtest as backtest_cli
from bot.cli import db as db_cli
from bot.cli import ingest as ingest_cli
from bot.cli import kb as kb_cli
from bot.core.model import ReportFormat
from bot.store.engine import make_engine
from bot.store.tables import load_all_tables
from bot.store.uow import SqlUnitOfWork
from tests.core.report_helpers import run_pytest_reports

# Import every table module now: pytester restores sys.modules after each test, and a table
# module imported inside one test would be imported again in the next, redefining its tables.
load_all_tables()

SUITE = """
    def test_ok():
        pass

    def test_bad():
        assert 1 == 2

    def test_redis(redis_down):
        pass

    import pytest

    @pytest.fixture
    def redis_down():
        import redis
        raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379.")
"""


@pytest.fixture
def app(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> typer.Typer:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    app = typer.Typer()
    for module in (db_cli, ingest_cli, kb_cli, backtest_cli):
        module.register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_does_not_print_the_url(app: typer.Typer, sqlite_url: str) -> None:
    code, out, _ = run(app, "db", "upgrade")
    assert code == 0
    assert out.strip() == "ok: sqlite database is at the newest schema"
    assert sqlite_url not in out


def test_bad_database_url_is_one_line(app: typer.Typer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "mysql://root:hunter2@db/x")
    code, out, err = run(app, "db", "upgrade")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "mysql" in err
    assert "hunter2" not in out + err


def test_ingest_files_then_the_same_again(
    app: typer.Typer, pytester: pytest.Pytester, sqlite_url: str
) -> None:
    paths = run_pytest_reports(pytester, SUITE)
    json_report = paths[ReportFormat.JSON_REPORT]
    gz = pytester.path / "again.json.gz"
    gz.write_bytes(gzip.compress(json_report.read_bytes()))
    code, out, _ = run(
        app,
        "ingest",
        str(json_report),
        str(paths[ReportFormat.JUNIT_XML]),
        "--suite",
        "e2e",
        "--at",
        "2026-11-02T06:00:00",
        "--branch",
        "main",
    )
    assert code == 0, out
    # The JUnit file is the same pytest session as the JSON one: the same run.
    assert "stored 1 run(s), 1 already stored, 0 bad file(s)" in out
    code, out, _ = run(app, "ingest", str(gz), "--suite", "e2e", "--at", "2026-11-03")
    assert code == 0
    assert "stored 0 run(s), 1 already stored" in out
    engine = make_engine(sqlite_url)
    try:
        with SqlUnitOfWork(engine, write=False) as uow:
            runs, total = uow.runs.page(suite="e2e", offset=0, limit=10)
        with engine.connect() as conn:
            analysed = {r[0] for r in conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
    finally:
        engine.dispose()
    assert total == 1
    # The backfill left planner statistics of what it stored for the service's next reads.
    assert {"runs", "failures"} <= analysed
    assert {r.run.source for r in runs} == {"cli"}
    assert {r.run.branch for r in runs} == {"main"}


def test_bad_files_get_one_line_each_and_exit_1(
    app: typer.Typer, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    paths = run_pytest_reports(pytester, SUITE)
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(paths[ReportFormat.JSON_REPORT].read_bytes()[:200])
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.json"
    good = paths[ReportFormat.JSON_REPORT]
    files = [truncated, empty, missing, tmp_path, good]
    code, out, err = run(app, "ingest", *map(str, files), "--suite", "e2e")
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert [line.split(":")[1].strip() for line in lines] == [str(p) for p in files[:4]]
    assert "Traceback" not in out + err
    assert "stored 1 run(s), 0 already stored, 4 bad file(s)" in out


def test_bad_time_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    code, _, err = run(app, "ingest", str(tmp_path), "--suite", "e2e", "--at", "yesterday")
    assert code == 2
    assert "not an ISO 8601 time" in err


def test_backtest_command(app: typer.Typer, pytester: pytest.Pytester, tmp_path: Path) -> None:
    paths = run_pytest_reports(pytester, SUITE)
    code, out, _ = run(app, "ingest", str(paths[ReportFormat.JSON_REPORT]), "--suite", "e2e")
    assert code == 0, out
    knowledge = Path(kb_cli.__file__).resolve().parents[2] / "knowledge"
    code, out, err = run(app, "kb", "backtest", str(knowledge))
    assert code == 0, err
    assert "replayed 2 failure(s): 0 new match, 0 lost match, 0 changed issue" in out
    changed = tmp_path / "kb"
    (changed / "issues").mkdir(parents=True)
    (changed / "categories.toml").write_text((knowledge / "categories.toml").read_text())
    (changed / "issues" / "9-asserts.toml").write_text(
        'issue = 9\ntitle = "asserts"\ncategory = "product"\n'
        '[[rules]]\nid = "a"\nexception = ["AssertionError"]\n'
    )
    code, out, err = run(app, "kb", "backtest", str(changed), "--json")
    assert code == 0, err
    changes = [json.loads(line) for line in out.splitlines()]
    assert {(c["kind"], c["after_issue"]) for c in changes} == {
        ("new_match", 9),
        ("lost_match", None),
    }
    assert "1 new match, 1 lost match" in err
    code, _, err = run(app, "kb", "backtest", str(tmp_path / "nowhere"))
    assert code == 1
    assert err.startswith("error:")


def test_backtest_apply_rejudges_and_prints_the_changes(
    app: typer.Typer, pytester: pytest.Pytester, tmp_path: Path, sqlite_url: str
) -> None:
    paths = run_pytest_reports(pytester, SUITE)
    code, out, err = run(app, "ingest", str(paths[ReportFormat.JSON_REPORT]), "--suite", "e2e")
    assert code == 0, out + err
    knowledge = Path(kb_cli.__file__).resolve().parents[2] / "knowledge"
    changed = tmp_path / "kb"
    (changed / "issues").mkdir(parents=True)
    (changed / "categories.toml").write_text((knowledge / "categories.toml").read_text())
    (changed / "issues" / "9-asserts.toml").write_text(
        'issue = 9\ntitle = "asserts"\ncategory = "product"\n'
        '[[rules]]\nid = "a"\nexception = ["AssertionError"]\n'
    )
    code, out, err = run(app, "kb", "backtest", str(changed), "--apply", "--json")
    assert code == 0, err
    changes = [json.loads(line) for line in out.splitlines()]
    assert {
        (c["nodeid"].split("::")[1], c["before_issue"], c["after_issue"], c["after_classification"])
        for c in changes
    } == {("test_bad", None, 9, "known"), ("test_redis", 1029, None, "new")}
    assert {c["reason"] for c in changes} == {"knowledge"}
    assert err.strip() == f"database: {sqlite_url}\napplied: re-judged 2 failure(s), 2 changed"
    engine = make_engine(sqlite_url)
    try:
        with SqlUnitOfWork(engine, write=False) as uow:
            stored = {
                r.nodeid.split("::")[1]: r.known_issue for r in uow.failures.replay(since=None)
            }
            assert uow.judgements.knowledge_digest() is not None
    finally:
        engine.dispose()
    assert stored == {"test_bad": 9, "test_redis": None}
    code, out, err = run(app, "kb", "backtest", str(changed), "--apply")
    assert code == 0, err
    assert "applied: re-judged 2 failure(s), 0 changed" in out
