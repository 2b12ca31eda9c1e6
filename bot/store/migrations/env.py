"""Alembic environment: our metadata, batch mode on SQLite, the engine handed over by migrate."""

from __future__ import annotations

from alembic import context

from bot.store.migrate import include_object
from bot.store.tables import load_all_tables

target_metadata = load_all_tables()


def run_migrations_online() -> None:
    """Run migrations on the engine bot.store.migrate put in the config's attributes."""
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
