"""task checks: the tracking issue's task items of the task criteria, checked by whom and when

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 08:02:08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("criterion", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("checked", sa.Boolean(), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_checks", schema=None) as batch_op:
        batch_op.create_index("ix_task_checks_criterion_at", ["criterion", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_task_checks_criterion_at")

    op.drop_table("task_checks")
