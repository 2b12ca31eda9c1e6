"""Import every module that defines tables, so SQLModel.metadata knows them all."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData
from sqlmodel import SQLModel

# A fixed list: the optional modules belong to other areas and may not exist yet.
_REQUIRED = ("bot.store.tables",)
_OPTIONAL = (
    "bot.store.outbox",
    "bot.store.deliveries",
    "bot.store.reports",
    "bot.store.judgements",
)


def load_all_tables() -> MetaData:
    """Import the table modules and return the metadata holding all their tables."""
    for name in _REQUIRED:
        importlib.import_module(name)
    for name in _OPTIONAL:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return SQLModel.metadata
