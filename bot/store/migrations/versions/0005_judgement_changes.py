"""judgement changes, knowledge versions and run identities

Re-judged history is recorded; a run is found again by its content in any format.

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "judgement_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("failure_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("suite", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("nodeid", sa.Text(), nullable=False),
        sa.Column("before_issue", sa.Integer(), nullable=True),
        sa.Column("before_rule", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("before_classification", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("before_category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("after_issue", sa.Integer(), nullable=True),
        sa.Column("after_rule", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("after_classification", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("after_category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["failure_id"], ["failures.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("judgement_changes", schema=None) as batch_op:
        batch_op.create_index("ix_judgement_changes_at", ["at"], unique=False)
        batch_op.create_index("ix_judgement_changes_run", ["run_id"], unique=False)
    op.create_table(
        "knowledge_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "run_identities",
        sa.Column("run_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("suite", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("environment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("durations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("run_identities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_run_identities_key",
            ["suite", "environment", "content_key", "started_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("run_identities", schema=None) as batch_op:
        batch_op.drop_index("ix_run_identities_key")
    op.drop_table("run_identities")
    op.drop_table("knowledge_versions")
    with op.batch_alter_table("judgement_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_judgement_changes_run")
        batch_op.drop_index("ix_judgement_changes_at")
    op.drop_table("judgement_changes")
