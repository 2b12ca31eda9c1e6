"""Success criteria: the shipped file loads, bad files name file and field, verdicts per kind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.criteria import (
    FailureGroup,
    Status,
    WeekFacts,
    compile_keywords,
    evaluate,
    load_criteria,
    parse_criteria,
    task_phrases,
)
from bot.core.errors import KnowledgeError, TriageError
from bot.core.objective import ObjectiveInputs, compute

ROOT = Path(__file__).resolve().parents[2]
MONDAY = date(2026, 11, 16)


@pytest.mark.parametrize(
    ("expr", "nodeid", "expected"),
    [
        ("chat", "tests/test_Chat.py::test_x", True),
        ("chat and not websocket", "t/test_chat_websocket.py::x", False),
        ("(auth or agent) and not slow", "t.py::test_agent_fast", True),
        ("not (auth or agent)", "t.py::test_agent", False),
        ("auth or agent", "t.py::test_chat", False),
    ],
)
def test_keyword_expressions(expr: str, nodeid: str, *, expected: bool) -> None:
    assert compile_keywords(expr)(nodeid) is expected


@pytest.mark.parametrize("expr", ["", "a and", "(a", "a )", "or a"])
def test_bad_keyword_expressions(expr: str) -> None:
    with pytest.raises(TriageError):
        compile_keywords(expr)


def test_shipped_criteria_load() -> None:
    criteria = load_criteria(ROOT / "knowledge" / "criteria.toml")
    kinds = {c.kind for c in criteria}
    assert kinds == {
        "no_failures", "reports_daily", "pass_rate", "objective", "known_issue_trend", "task",
    }  # fmt: skip
    # The plan's criteria no test can measure, each tied to an item of its task list.
    assert {c.id: c.task for c in criteria if c.kind == "task"} == {
        "docs-fixture-patterns": "documentation updated",
        "monitoring-alerts": "monitoring alerts",
        "deployment-confidence": "deployment confidence",
    }
    assert {c.select for c in criteria if c.kind == "pass_rate"} == {
        "chat",
        "websocket",
        "agent",
        "auth",
        "concurrent",
    }


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("version = 2", "version"),
        ("version = 1", "criterion"),
        (
            'version = 1\n[[criterion]]\nid = "A"\ntitle = "t"\nkind = "objective"',
            "criterion[0].id",
        ),
        ('version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "nope"', "(a).kind"),
        (
            'version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "pass_rate"\n'
            'select = "x"\nthreshold = 2',
            "(a).threshold",
        ),
        (
            'version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "no_failures"\n'
            'message = "("',
            "(a).message",
        ),
        (
            'version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "objective"\nextra = 1',
            "criterion[0].extra",
        ),
        ('version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "no_failures"', "(a)"),
        ("version = [", "invalid TOML"),
        ('version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "task"', "(a).task"),
        (
            'version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "task"\ntask = "  x "',
            "(a).task",
        ),
        (
            'version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "objective"\n'
            'task = "monitoring alerts"',
            "(a).task",
        ),
    ],
)
def test_bad_criteria_name_file_and_field(tmp_path: Path, body: str, where: str) -> None:
    path = tmp_path / "criteria.toml"
    path.write_text(body)
    with pytest.raises(KnowledgeError) as info:
        load_criteria(path)
    assert str(path) in info.value.message
    assert where in info.value.message


def test_a_task_phrase_is_kept_with_single_spaces() -> None:
    text = 'version = 1\n[[criterion]]\nid = "a"\ntitle = "t"\nkind = "task"\n'
    (criterion,) = parse_criteria(text + 'task = " Monitoring \t alerts "', source="x")
    assert task_phrases([criterion]) == {"a": "Monitoring alerts"}


def _facts(**changes: object) -> WeekFacts:
    base = {
        "suite": "staging",
        "first_day": MONDAY,
        "last_day": MONDAY + timedelta(days=6),
        "runs_per_day": {MONDAY + timedelta(days=i): 1 for i in range(7)},
        "failures": [],
        "failed_runs_by_nodeid": {},
        "tests": ["t/test_chat.py::test_a", "t/test_chat.py::test_b", "t/test_auth.py::test_c"],
        "known_this_week": {},
        "known_last_week": {},
        "objective": None,
    }
    base.update(changes)
    return WeekFacts(**base)  # type: ignore[arg-type]


CRITERIA = parse_criteria(
    """
version = 1
[[criterion]]
id = "fix"
title = "no fixture errors in concurrent"
kind = "no_failures"
select = "concurrent"
phases = ["setup"]
[[criterion]]
id = "daily"
title = "daily"
kind = "reports_daily"
[[criterion]]
id = "chat"
title = "chat"
kind = "pass_rate"
select = "chat"
threshold = 0.9
[[criterion]]
id = "obj"
title = "objective"
kind = "objective"
[[criterion]]
id = "trend"
title = "trend"
kind = "known_issue_trend"
""",
    source="inline",
)


def _statuses(facts: WeekFacts) -> dict[str, Status]:
    return {v.criterion.id: v.status for v in evaluate(CRITERIA, facts)}


def test_quiet_week_meets_everything_but_objective_without_data() -> None:
    assert _statuses(_facts()) == {
        "fix": Status.MET,
        "daily": Status.MET,
        "chat": Status.MET,
        "obj": Status.NO_DATA,
        "trend": Status.MET,
    }


def test_empty_week_has_no_data_and_misses_daily() -> None:
    got = _statuses(_facts(runs_per_day={}))
    assert got == {
        "fix": Status.NO_DATA,
        "daily": Status.NOT_MET,
        "chat": Status.NO_DATA,
        "obj": Status.NO_DATA,
        "trend": Status.NO_DATA,
    }


def test_bad_week_fails_criteria_with_evidence() -> None:
    group = FailureGroup(
        "t/test_x.py::test_concurrent_users",
        "setup",
        None,
        "fixture 'real_services' not found",
        "new",
        "infrastructure",
        None,
        3,
    )
    at = datetime(2026, 11, 22, 12, tzinfo=UTC)
    obj = compute(
        ObjectiveInputs(
            "staging",
            at,
            30,
            0.9,
            at - timedelta(days=60),
            [at - timedelta(days=d) for d in range(30)],
            [],
            UTC,
        )
    )
    facts = _facts(
        failures=[group],
        runs_per_day={MONDAY + timedelta(days=i): 1 for i in range(6)},
        failed_runs_by_nodeid={"t/test_chat.py::test_a": 6},
        known_this_week={1086: 5, 1029: 1},
        known_last_week={1086: 2, 1029: 4},
        objective=obj,
    )
    verdicts = {v.criterion.id: v for v in evaluate(CRITERIA, facts)}
    assert verdicts["fix"].status is Status.NOT_MET
    assert "3 matching failures" in verdicts["fix"].evidence
    assert verdicts["daily"].status is Status.NOT_MET
    assert "2026-11-22" in verdicts["daily"].evidence
    # 2 chat tests x 6 runs = 12 test runs, 6 failed: 50%.
    assert verdicts["chat"].status is Status.NOT_MET
    assert verdicts["chat"].evidence.startswith("50.0% passed (6 failed of 12 test runs")
    assert verdicts["obj"].status is Status.MET
    assert verdicts["trend"].status is Status.NOT_MET
    assert "#1086: 5 (last week 2, up)" in verdicts["trend"].evidence
    assert "#1029: 1 (last week 4, down)" in verdicts["trend"].evidence
