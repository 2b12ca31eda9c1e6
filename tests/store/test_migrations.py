"""Migrations: upgrade on an empty database gives exactly the tables' metadata."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import Session

from bot.core.errors import TriageError
from bot.store.engine import make_engine
from bot.store.migrate import MIGRATIONS, alembic_config, autogenerate, schema_diff, upgrade
from bot.store.outbox_repository import OutboxRepository
from bot.store.tables import load_all_tables
from bot.store.uow import SqlUnitOfWork


def test_upgrade_matches_the_metadata_and_is_repeatable(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a second start finds nothing to do
    engine = make_engine(database_url)
    try:
        assert schema_diff(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert set(load_all_tables().tables) <= tables
        assert {"runs", "failures", "suite_tests", "clusters", "manual_links"} <= tables
    finally:
        engine.dispose()


def test_schema_diff_sees_a_missing_table(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE manual_links")
        kinds = {diff[0] for diff in schema_diff(engine) if isinstance(diff, tuple)}
        assert "add_table" in kinds
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        command.downgrade(alembic_config(engine), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(alembic_config(engine), "head")
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-dir/triage.db",
        pytest.param(
            "postgresql+psycopg://app:hunter2@127.0.0.1:1/triage", marks=pytest.mark.postgres
        ),
    ],
)
def test_unreachable_database_is_a_clear_error(url: str) -> None:
    with pytest.raises(TriageError) as raised:
        upgrade(url)
    assert raised.value.reason == "database_unavailable"
    assert str(raised.value).startswith("cannot open the ")
    assert "hunter2" not in str(raised.value)


def test_autogenerate_finds_nothing_missing_from_the_migrations(tmp_path: Path) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    autogenerate("check", rev_id="9999", migrations=copy)
    script = (copy / "versions" / "9999_check.py").read_text()
    upgrade_body = script.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "op." not in upgrade_body, upgrade_body
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert f'down_revision: str | None = "{head}"' in script


def test_the_outbox_factory_builds_on_the_unit_of_works_session(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    made: list[object] = []

    def factory(session: Session) -> OutboxRepository:
        made.append(session)
        return OutboxRepository(session)

    try:
        with SqlUnitOfWork(engine, outbox=factory) as uow:
            assert isinstance(uow.outbox, OutboxRepository)
            assert made == [uow.session]
    finally:
        engine.dispose()
