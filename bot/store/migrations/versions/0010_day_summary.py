"""Summaries kept by triggers: per-run tallies, each run's first regression, issue totals

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 08:30:00

The dashboard, the objective and the known-issues list read these instead of the failures, so
their cost follows the window they show (or the number of issues), not the stored history.
The summaries are kept per run, not per calendar day: a day depends on the report time zone,
which is a setting; the runs of a window group into days at read time, exactly in any zone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every piece of SQL below is built from constants of this module: no outside value reaches it.
# ruff: noqa: S608
_FLAKY = "CASE WHEN {row}.outcome = 'flaky' THEN 1 ELSE 0 END"
_FAILED = "CASE WHEN {row}.outcome = 'flaky' THEN 0 ELSE 1 END"
_REGRESSION = "{row}.category = 'infrastructure' AND {row}.classification IN ('new', 'recurred')"
_FIRST_COLUMNS = "run_id, suite, started_at, failure_id, nodeid, classification, exception, message"


def _run_tally_add(row: str) -> str:
    """Count one failure row (NEW) into its run's tally of its classification and category."""
    return (
        "INSERT INTO run_tallies (run_id, classification, category, failures, flaky) "
        f"VALUES ({row}.run_id, {row}.classification, {row}.category, "
        f"{_FAILED.format(row=row)}, {_FLAKY.format(row=row)}) "
        "ON CONFLICT (run_id, classification, category) DO UPDATE SET "
        "failures = run_tallies.failures + excluded.failures, "
        "flaky = run_tallies.flaky + excluded.flaky"
    )


def _run_tally_remove(row: str) -> list[str]:
    """Take one failure row (OLD) out of its run's tally, dropping the tally when empty."""
    key = (
        f"run_id = {row}.run_id AND classification = {row}.classification "
        f"AND category = {row}.category"
    )
    return [
        f"UPDATE run_tallies SET failures = failures - {_FAILED.format(row=row)}, "
        f"flaky = flaky - {_FLAKY.format(row=row)} WHERE {key}",
        f"DELETE FROM run_tallies WHERE {key} AND failures <= 0 AND flaky <= 0",
    ]


def _first_offer(row: str) -> str:
    """Make a regression (NEW) its run's first one when it sorts before the stored one."""
    return (
        f"INSERT INTO run_regressions ({_FIRST_COLUMNS}) "
        f"SELECT {row}.run_id, {row}.suite, {row}.started_at, {row}.id, {row}.nodeid, "
        f"{row}.classification, {row}.exception, {row}.message "
        f"WHERE {_REGRESSION.format(row=row)} "
        "ON CONFLICT (run_id) DO UPDATE SET suite = excluded.suite, "
        "started_at = excluded.started_at, failure_id = excluded.failure_id, "
        "nodeid = excluded.nodeid, classification = excluded.classification, "
        "exception = excluded.exception, message = excluded.message "
        "WHERE excluded.nodeid < run_regressions.nodeid "
        "OR (excluded.nodeid = run_regressions.nodeid "
        "AND excluded.failure_id <= run_regressions.failure_id)"
    )


def _first_recompute(row: str) -> list[str]:
    """When the run's first regression was this row (OLD), put the run's next one in its place.

    Only the row that was the first causes a look at the run's failures, in node id order on
    (run_id, nodeid): re-judging or deleting a run's other failures stays a constant cost.
    """
    was_first = (
        f"EXISTS (SELECT 1 FROM run_regressions r WHERE r.run_id = {row}.run_id "
        f"AND r.failure_id = {row}.id)"
    )
    return [
        f"INSERT INTO run_regressions ({_FIRST_COLUMNS}) "
        "SELECT f.run_id, f.suite, f.started_at, f.id, f.nodeid, f.classification, "
        "f.exception, f.message FROM failures f "
        f"WHERE f.run_id = {row}.run_id AND {_REGRESSION.format(row='f')} AND {was_first} "
        "ORDER BY f.nodeid, f.id LIMIT 1 "
        "ON CONFLICT (run_id) DO UPDATE SET suite = excluded.suite, "
        "started_at = excluded.started_at, failure_id = excluded.failure_id, "
        "nodeid = excluded.nodeid, classification = excluded.classification, "
        "exception = excluded.exception, message = excluded.message",
        # No regression left in the run: the row still names this one, which is no longer one.
        f"DELETE FROM run_regressions WHERE run_id = {row}.run_id "
        f"AND failure_id = {row}.id AND NOT EXISTS (SELECT 1 FROM failures f "
        f"WHERE f.id = {row}.id AND {_REGRESSION.format(row='f')})",
    ]


def _issue_totals_add(row: str) -> list[str]:
    """Count a new per-run tally (NEW) into its issue's and its rule's totals."""
    # The tally is inserted already: it is the issue's first in this run when it is alone.
    alone = (
        f"CASE WHEN (SELECT COUNT(*) FROM issue_tallies t WHERE t.run_id = {row}.run_id "
        f"AND t.known_issue = {row}.known_issue) = 1 THEN 1 ELSE 0 END"
    )
    return [
        "INSERT INTO issue_totals (known_issue, occurrences, runs, last_seen) "
        f"VALUES ({row}.known_issue, {row}.failures + {row}.flaky, {alone}, {row}.started_at) "
        "ON CONFLICT (known_issue) DO UPDATE SET "
        "occurrences = issue_totals.occurrences + excluded.occurrences, "
        "runs = issue_totals.runs + excluded.runs, "
        "last_seen = CASE WHEN excluded.last_seen > issue_totals.last_seen "
        "THEN excluded.last_seen ELSE issue_totals.last_seen END",
        "INSERT INTO rule_totals (known_issue, rule, matches) "
        f"VALUES ({row}.known_issue, {row}.rule, {row}.failures + {row}.flaky) "
        "ON CONFLICT (known_issue, rule) DO UPDATE SET "
        "matches = rule_totals.matches + excluded.matches",
    ]


def _issue_totals_change() -> list[str]:
    """Move a tally's changed counts (NEW - OLD) into the totals."""
    delta = "(NEW.failures + NEW.flaky - OLD.failures - OLD.flaky)"
    return [
        f"UPDATE issue_totals SET occurrences = occurrences + {delta} "
        "WHERE known_issue = NEW.known_issue",
        f"UPDATE rule_totals SET matches = matches + {delta} "
        "WHERE known_issue = NEW.known_issue AND rule = NEW.rule",
        "DELETE FROM rule_totals WHERE known_issue = NEW.known_issue AND rule = NEW.rule "
        "AND matches <= 0",
    ]


def _issue_totals_remove() -> list[str]:
    """Take a dropped tally (OLD) out of the totals; an issue seen nowhere loses its row."""
    gone = (
        "CASE WHEN EXISTS (SELECT 1 FROM issue_tallies t WHERE t.run_id = OLD.run_id "
        "AND t.known_issue = OLD.known_issue) THEN 0 ELSE 1 END"
    )
    return [
        "UPDATE issue_totals SET "
        "occurrences = occurrences - (OLD.failures + OLD.flaky), "
        f"runs = runs - {gone}, "
        "last_seen = COALESCE((SELECT MAX(t.started_at) FROM issue_tallies t "
        "WHERE t.known_issue = OLD.known_issue), last_seen) "
        "WHERE known_issue = OLD.known_issue",
        "DELETE FROM issue_totals WHERE known_issue = OLD.known_issue AND runs <= 0",
        "UPDATE rule_totals SET matches = matches - (OLD.failures + OLD.flaky) "
        "WHERE known_issue = OLD.known_issue AND rule = OLD.rule",
        "DELETE FROM rule_totals WHERE known_issue = OLD.known_issue AND rule = OLD.rule "
        "AND matches <= 0",
    ]


_SUMMARY_COLUMNS = "run_id, classification, category, outcome, nodeid"


def _sqlite_triggers() -> list[str]:
    def body(statements: list[str]) -> str:
        return "BEGIN " + "; ".join(statements) + "; END"

    return [
        "CREATE TRIGGER failures_summary_insert AFTER INSERT ON failures "
        + body([_run_tally_add("NEW"), _first_offer("NEW")]),
        "CREATE TRIGGER failures_summary_delete AFTER DELETE ON failures "
        + body([*_run_tally_remove("OLD"), *_first_recompute("OLD")]),
        f"CREATE TRIGGER failures_summary_update AFTER UPDATE OF {_SUMMARY_COLUMNS} ON failures "
        + body(
            [
                *_run_tally_remove("OLD"),
                _run_tally_add("NEW"),
                *_first_recompute("OLD"),
                _first_offer("NEW"),
            ]
        ),
        "CREATE TRIGGER issue_tallies_totals_insert AFTER INSERT ON issue_tallies "
        + body(_issue_totals_add("NEW")),
        "CREATE TRIGGER issue_tallies_totals_update AFTER UPDATE OF failures, flaky "
        "ON issue_tallies " + body(_issue_totals_change()),
        "CREATE TRIGGER issue_tallies_totals_delete AFTER DELETE ON issue_tallies "
        + body(_issue_totals_remove()),
    ]


def _postgres_triggers() -> list[str]:
    def body(statements: list[str]) -> str:
        return "; ".join(statements)

    return [
        "CREATE FUNCTION failures_summary() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        f"{body(_run_tally_remove('OLD'))}; {body(_first_recompute('OLD'))}; END IF; "
        "IF TG_OP IN ('UPDATE', 'INSERT') THEN "
        f"{_run_tally_add('NEW')}; {_first_offer('NEW')}; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER failures_summary AFTER INSERT OR DELETE OR UPDATE OF "
        f"{_SUMMARY_COLUMNS} ON failures FOR EACH ROW EXECUTE FUNCTION failures_summary()",
        "CREATE FUNCTION issue_tallies_totals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {body(_issue_totals_add('NEW'))}; "
        f"ELSIF TG_OP = 'UPDATE' THEN {body(_issue_totals_change())}; "
        f"ELSE {body(_issue_totals_remove())}; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER issue_tallies_totals AFTER INSERT OR DELETE OR UPDATE OF failures, flaky "
        "ON issue_tallies FOR EACH ROW EXECUTE FUNCTION issue_tallies_totals()",
    ]


def _backfill() -> list[str]:
    regression = _REGRESSION.format(row="failures")
    return [
        "INSERT INTO run_tallies (run_id, classification, category, failures, flaky) "
        f"SELECT run_id, classification, category, SUM({_FAILED.format(row='failures')}), "
        f"SUM({_FLAKY.format(row='failures')}) FROM failures "
        "GROUP BY run_id, classification, category",
        f"INSERT INTO run_regressions ({_FIRST_COLUMNS}) "
        f"SELECT {_FIRST_COLUMNS} FROM (SELECT run_id, suite, started_at, id AS failure_id, "
        "nodeid, classification, exception, message, "
        "ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY nodeid, id) AS n "
        f"FROM failures WHERE {regression}) AS firsts WHERE n = 1",
        "INSERT INTO issue_totals (known_issue, occurrences, runs, last_seen) "
        "SELECT known_issue, SUM(failures + flaky), COUNT(DISTINCT run_id), MAX(started_at) "
        "FROM issue_tallies GROUP BY known_issue",
        "INSERT INTO rule_totals (known_issue, rule, matches) "
        "SELECT known_issue, rule, SUM(failures + flaky) FROM issue_tallies "
        "GROUP BY known_issue, rule",
    ]


def upgrade() -> None:
    op.create_table(
        "run_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("classification", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("flaky", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "classification", "category", name="uq_run_tallies"),
    )
    op.create_table(
        "run_regressions",
        sa.Column("run_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("suite", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failure_id", sa.Integer(), nullable=False),
        sa.Column("nodeid", sa.Text(), nullable=False),
        sa.Column("classification", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("exception", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("run_regressions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_run_regressions_suite_started", ["suite", "started_at"], unique=False
        )
    op.create_table(
        "issue_totals",
        sa.Column("known_issue", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("known_issue"),
    )
    op.create_table(
        "rule_totals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("known_issue", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("known_issue", "rule", name="uq_rule_totals"),
    )
    with op.batch_alter_table("issue_tallies", schema=None) as batch_op:
        batch_op.create_index("ix_issue_tallies_run", ["run_id", "known_issue"], unique=False)
    for statement in _backfill():
        op.execute(statement)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _postgres_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER failures_summary ON failures")
        op.execute("DROP FUNCTION failures_summary()")
        op.execute("DROP TRIGGER issue_tallies_totals ON issue_tallies")
        op.execute("DROP FUNCTION issue_tallies_totals()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER failures_summary_{name}")
            op.execute(f"DROP TRIGGER issue_tallies_totals_{name}")
    with op.batch_alter_table("issue_tallies", schema=None) as batch_op:
        batch_op.drop_index("ix_issue_tallies_run")
    op.drop_table("rule_totals")
    op.drop_table("issue_totals")
    op.drop_table("run_regressions")
    op.drop_table("run_tallies")
