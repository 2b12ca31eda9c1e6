"""suite_tests replaces test_states; issue_tallies kept by triggers on failures

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
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_FLAKY = "CASE WHEN {row}.outcome = 'flaky' THEN 1 ELSE 0 END"
_FAILED = "CASE WHEN {row}.outcome = 'flaky' THEN 0 ELSE 1 END"
_KEY = (
    "known_issue = {row}.known_issue AND rule = COALESCE({row}.rule, '') AND run_id = {row}.run_id"
)
_COLUMNS = "known_issue, rule, run_id, started_at, failures, flaky"


def _add(row: str, table: str) -> str:
    """Count one failure row into its tally (NEW), creating the tally if needed."""
    return (
        f"INSERT INTO issue_tallies ({_COLUMNS}) "
        f"SELECT {row}.known_issue, COALESCE({row}.rule, ''), {row}.run_id, {row}.started_at, "
        f"{_FAILED.format(row=row)}, {_FLAKY.format(row=row)} "
        f"WHERE {row}.known_issue IS NOT NULL "
        "ON CONFLICT (known_issue, rule, run_id) DO UPDATE SET "
        f"failures = {table}.failures + excluded.failures, "
        f"flaky = {table}.flaky + excluded.flaky"
    )


def _remove(row: str) -> list[str]:
    """Take one failure row (OLD) out of its tally, dropping the tally when it is empty."""
    key = _KEY.format(row=row)
    # Every piece is a constant of this module: no outside value reaches the SQL.
    return [
        f"UPDATE issue_tallies SET failures = failures - {_FAILED.format(row=row)}, "  # noqa: S608
        f"flaky = flaky - {_FLAKY.format(row=row)} "
        f"WHERE {row}.known_issue IS NOT NULL AND {key}",
        f"DELETE FROM issue_tallies WHERE {key} AND failures <= 0 AND flaky <= 0",  # noqa: S608
    ]


def _sqlite_triggers() -> list[str]:
    counted = "known_issue, rule, outcome, run_id"
    return [
        "CREATE TRIGGER failures_tally_insert AFTER INSERT ON failures "
        f"BEGIN {_add('NEW', 'issue_tallies')}; END",
        "CREATE TRIGGER failures_tally_delete AFTER DELETE ON failures "
        f"BEGIN {'; '.join(_remove('OLD'))}; END",
        f"CREATE TRIGGER failures_tally_update AFTER UPDATE OF {counted} ON failures "
        f"BEGIN {'; '.join(_remove('OLD'))}; {_add('NEW', 'issue_tallies')}; END",
    ]


def _postgres_triggers() -> list[str]:
    remove = "; ".join(_remove("OLD"))
    return [
        "CREATE FUNCTION failures_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {remove}; END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add('NEW', 'issue_tallies')}; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER failures_tally AFTER INSERT OR DELETE OR UPDATE OF known_issue, rule, "
        "outcome, run_id ON failures FOR EACH ROW EXECUTE FUNCTION failures_tally()",
    ]


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
    op.create_table(
        "issue_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("known_issue", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("flaky", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("known_issue", "rule", "run_id", name="uq_issue_tallies"),
    )
    with op.batch_alter_table("issue_tallies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issue_tallies_issue_started", ["known_issue", "started_at"], unique=False
        )
    op.execute(
        f"INSERT INTO issue_tallies ({_COLUMNS}) "  # noqa: S608
        "SELECT known_issue, COALESCE(rule, ''), run_id, MIN(started_at), "
        f"SUM({_FAILED.format(row='failures')}), SUM({_FLAKY.format(row='failures')}) "
        "FROM failures WHERE known_issue IS NOT NULL "
        "GROUP BY known_issue, COALESCE(rule, ''), run_id"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _postgres_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER failures_tally ON failures")
        op.execute("DROP FUNCTION failures_tally()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER failures_tally_{name}")
    op.drop_table("issue_tallies")
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
