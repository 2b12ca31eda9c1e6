"""Alembic migrations run from the installed package: upgrade, autogenerate, schema diff."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.core.errors import TriageError
from bot.store.engine import make_engine
from bot.store.tables import load_all_tables

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine, *, migrations: Path = MIGRATIONS) -> Config:
    """Build an Alembic config for our packaged scripts; the engine is passed, never a URL."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["engine"] = engine
    return config


def upgrade(url: str, *, revision: str = "head") -> None:
    """Bring the database at `url` to the newest schema; TriageError when it cannot be reached."""
    engine = make_engine(url)
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        # The driver's first line says what failed (file, host, port); never the password.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise TriageError(
            "database_unavailable", f"cannot open the {engine.dialect.name} database: {reason}"
        ) from None
    finally:
        engine.dispose()


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Ignore tables we do not own (such as APScheduler's job store) when comparing."""
    return not (type_ == "table" and reflected and compare_to is None)


def schema_diff(engine: Engine) -> list[Any]:
    """List the differences between the database and the tables' metadata (empty when equal)."""
    metadata = load_all_tables()
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(context, metadata))


def _format_with_ruff(config: Config) -> None:
    """Run ruff (fix, then format) on the new revision, so it passes the gates as written."""
    config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
    for name, args in (
        ("ruff_fix", "check --fix REVISION_SCRIPT_FILENAME"),
        ("ruff_format", "format REVISION_SCRIPT_FILENAME"),
    ):
        config.set_section_option("post_write_hooks", f"{name}.type", "module")
        config.set_section_option("post_write_hooks", f"{name}.module", "ruff")
        config.set_section_option("post_write_hooks", f"{name}.options", args)


def autogenerate(message: str, *, rev_id: str | None = None, migrations: Path = MIGRATIONS) -> None:
    """Write a new revision holding every table change, diffed against a scratch SQLite file."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            config = alembic_config(engine, migrations=migrations)
            command.upgrade(config, "head")
            _format_with_ruff(config)
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()


if __name__ == "__main__":
    # python -m bot.store.migrate revision "message" [REV_ID]
    if len(sys.argv) not in (3, 4) or sys.argv[1] != "revision":
        sys.exit('usage: python -m bot.store.migrate revision "message" [REV_ID]')
    autogenerate(sys.argv[2], rev_id=sys.argv[3] if len(sys.argv) == 4 else None)
