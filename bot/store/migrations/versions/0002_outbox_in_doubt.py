"""outbox: writes in doubt and automatic retries of dead rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 05:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("doubt_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revivals", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_outbox_doubt", ["doubt_since"], unique=False)
    # Rows dead before the upgrade have revivals 0 and a past next_attempt_at: the first
    # automatic retry takes them back at once.


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_doubt")
        batch_op.drop_column("revivals")
        batch_op.drop_column("doubt_since")
