"""A run's verdict for a deploy gate: pass, known failures only, or blocked."""

from __future__ import annotations

import pytest

from bot.core.gate import GateStatus, JudgedFailure, judge_run
from bot.core.model import Category, Classification

INFRA, PRODUCT = Category.INFRASTRUCTURE, Category.PRODUCT


def failure(
    kind: Classification, issue: int | None = None, category: Category = INFRA
) -> JudgedFailure:
    return JudgedFailure(
        nodeid=f"t.py::{kind}-{issue}", classification=kind, category=category, known_issue=issue
    )


def test_no_failure_passes() -> None:
    verdict = judge_run([])
    assert verdict.status is GateStatus.PASS
    assert verdict.title == "No failures"
    assert verdict.deciding == ()


def test_known_and_flaky_only_is_known_and_title_counts_per_issue() -> None:
    rows = [failure(Classification.KNOWN, 1029)] * 5 + [failure(Classification.KNOWN, 1086)] * 6
    verdict = judge_run([*rows, failure(Classification.FLAKY, category=PRODUCT)])
    assert verdict.status is GateStatus.KNOWN
    assert verdict.title == "12 failures: 11 known (#1086 \u00d76, #1029 \u00d75), 1 flaky"
    assert verdict.known_by_issue == ((1086, 6), (1029, 5))


def test_one_new_failure_blocks_and_is_named() -> None:
    new = failure(Classification.NEW)
    rows = [failure(Classification.KNOWN, 1086)] * 6 + [failure(Classification.KNOWN, 1029)] * 5
    verdict = judge_run([*rows, new])
    assert verdict.status is GateStatus.BLOCKED
    assert verdict.deciding == (new,)
    assert (
        verdict.title
        == "12 failures: 11 known (#1086 \u00d76, #1029 \u00d75), 1 new infrastructure failure"
    )


@pytest.mark.parametrize(
    "kind", [Classification.NEW, Classification.RECURRED, Classification.PERSISTENT]
)
def test_news_of_any_kind_blocks(kind: Classification) -> None:
    verdict = judge_run([failure(kind, 623 if kind is Classification.RECURRED else None, PRODUCT)])
    assert verdict.status is GateStatus.BLOCKED
    assert verdict.title == f"1 failure: 1 {kind} product failure"


def test_several_blocking_groups_are_counted_apart() -> None:
    rows = [failure(Classification.PERSISTENT, category=PRODUCT)] * 2 + [
        failure(Classification.NEW)
    ]
    assert judge_run(rows).title == (
        "3 failures: 2 persistent product failures, 1 new infrastructure failure"
    )
