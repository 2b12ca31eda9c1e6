"""mask credentials in rows stored before they were masked at ingest

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01 05:10:00

Failure texts, node ids, CI links and delivery outcomes stored by earlier versions may hold
`password=...`, `https://user:pass@...` or tokens in clear; ingest now masks them before
storing. This pass masks what is already stored, with the same redaction, in batches. A node
id whose masked form already exists under the same key (two parametrize ids that differed only
in the secret) keeps the existing row and drops the other one. Masking cannot be undone:
the downgrade changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.redact import redact

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

# table: (primary key, masked columns, columns of a unique key holding a masked column)
TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "runs": ("id", ("branch", "commit", "ci_url"), ()),
    "failures": ("id", ("nodeid", "chain", "message", "text", "keywords"), ()),
    "clusters": ("id", ("example_nodeid", "example_message", "suggested_rule"), ()),
    "test_states": ("id", ("nodeid",), ("suite", "environment", "nodeid")),
    "wrong_matches": ("id", ("nodeid",), ("run_id", "nodeid")),
    "webhook_deliveries": ("guid", ("outcome",), ()),
    "outbox": ("id", ("last_error",), ()),
}


def _masked(row: sa.Row[tuple[object, ...]], columns: tuple[str, ...]) -> dict[str, str]:
    changes = {}
    for column in columns:
        value = getattr(row, column)
        if isinstance(value, str) and (masked := redact(value)) != value:
            changes[column] = masked
    return changes


def _taken(
    conn: sa.Connection, table: sa.Table, row: sa.Row[tuple[object, ...]], unique: tuple[str, ...],
    changes: dict[str, str],
) -> bool:  # fmt: skip
    """Tell whether another row already holds the masked values of the unique key."""
    if not unique or not set(unique) & set(changes):
        return False
    where = [table.c[c] == changes.get(c, getattr(row, c)) for c in unique]
    return (
        conn.execute(sa.select(sa.literal(1)).select_from(table).where(*where)).first() is not None
    )


def _mask_table(conn: sa.Connection, name: str) -> None:
    key, columns, unique = TABLES[name]
    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
    pk = table.c[key]
    selected = [pk, *(table.c[c] for c in dict.fromkeys((*columns, *unique)))]
    last: object = None
    while True:
        query = sa.select(*selected).order_by(pk).limit(BATCH)
        if last is not None:
            query = query.where(pk > last)
        rows = list(conn.execute(query))
        if not rows:
            return
        last = getattr(rows[-1], key)
        for row in rows:
            changes = _masked(row, columns)
            if not changes:
                continue
            this = pk == getattr(row, key)
            if _taken(conn, table, row, unique, changes):
                conn.execute(sa.delete(table).where(this))
            else:
                conn.execute(sa.update(table).where(this).values(**changes))


def upgrade() -> None:
    conn = op.get_bind()
    present = set(sa.inspect(conn).get_table_names())
    for name in TABLES:
        if name in present:
            _mask_table(conn, name)


def downgrade() -> None:
    # The secrets are gone; there is nothing to restore.
    pass
