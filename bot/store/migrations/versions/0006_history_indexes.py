"""suite_tests replaces test_states; covering index for per-issue activity

Revision ID: 0006
Revises: 0001
Create Date: 2026-12-01 05:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # test_states was rewritten for every test of every run and only its node ids were read
    # (the weekly pass rate's list of a suite's tests): keep just those.
    op.create_table(
        "suite_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suite", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("environment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("nodeid", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("suite", "environment", "nodeid", name="uq_suite_tests_node"),
    )
    op.execute(
        "INSERT INTO suite_tests (suite, environment, nodeid) "
        "SELECT suite, environment, nodeid FROM test_states ORDER BY id"
    )
    op.drop_table("test_states")
    with op.batch_alter_table("failures", schema=None) as batch_op:
        batch_op.drop_index("ix_failures_issue_started")
        batch_op.create_index(
            "ix_failures_issue_activity",
            ["known_issue", "started_at", "run_id", "outcome"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("failures", schema=None) as batch_op:
        batch_op.drop_index("ix_failures_issue_activity")
        batch_op.create_index(
            "ix_failures_issue_started", ["known_issue", "started_at"], unique=False
        )
    op.create_table(
        "test_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suite", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("environment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("nodeid", sa.Text(), nullable=False),
        sa.Column("last_outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_passed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("suite", "environment", "nodeid", name="uq_test_states_node"),
    )
    # The per-run state was not kept: the tests come back as passed, with no history.
    op.execute(
        "INSERT INTO test_states (suite, environment, nodeid, last_outcome, last_run_id, "
        "last_run_at, history) "
        "SELECT suite, environment, nodeid, 'passed', 0, CURRENT_TIMESTAMP, '' FROM suite_tests"
    )
    op.drop_table("suite_tests")
