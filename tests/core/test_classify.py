"""Classification rules, flip counting, regressions and the run summary."""

from __future__ import annotations

import pytest

from bot.core.classify import (
    FailureVerdict,
    FlakyPolicy,
    Prior,
    classify,
    count_flips,
    is_regression,
    letter,
    summarise,
)
from bot.core.model import Category, Classification, Match, Outcome

POLICY = FlakyPolicy(flips=3, window=10)
MATCH = Match(issue=1029, rule="1029-redis#client", category=Category.INFRASTRUCTURE)


@pytest.mark.parametrize(
    ("outcome", "match", "state", "recent", "expected"),
    [
        (Outcome.FAILED, MATCH, "open", "", Classification.KNOWN),
        (Outcome.FAILED, MATCH, None, "FFFF", Classification.KNOWN),
        (Outcome.ERROR, MATCH, "closed", "", Classification.RECURRED),
        (Outcome.FLAKY, None, None, "", Classification.FLAKY),
        (Outcome.FLAKY, MATCH, "open", "", Classification.FLAKY),
        (Outcome.FAILED, None, None, "PFPF", Classification.FLAKY),
        (Outcome.FAILED, None, None, "", Classification.NEW),
        (Outcome.FAILED, None, None, "PPPP", Classification.NEW),
        (Outcome.FAILED, None, None, "PPPF", Classification.PERSISTENT),
        (Outcome.ERROR, None, None, "FFFF", Classification.PERSISTENT),
        (Outcome.FAILED, None, None, "FP", Classification.NEW),
        (Outcome.FAILED, None, None, "PFP", Classification.FLAKY),
    ],
)
def test_each_classification(
    outcome: Outcome, match: Match | None, state: str | None, recent: str, expected: str
) -> None:
    got = classify(
        outcome=outcome, match=match, issue_state=state, prior=Prior(recent), policy=POLICY
    )
    assert got == expected


def test_flips_older_than_the_window_do_not_count() -> None:
    prior = Prior("PFPF" + "F" * 9)
    policy = FlakyPolicy(flips=3, window=10)
    got = classify(outcome=Outcome.FAILED, match=None, issue_state=None, prior=prior, policy=policy)
    assert got == Classification.PERSISTENT
    wide = FlakyPolicy(flips=3, window=14)
    got = classify(outcome=Outcome.FAILED, match=None, issue_state=None, prior=prior, policy=wide)
    assert got == Classification.FLAKY


@pytest.mark.parametrize(
    ("letters", "flips"),
    [("", 0), ("P", 0), ("PF", 1), ("PFPF", 3), ("PSF", 1), ("PKP", 2), ("FFFF", 0)],
)
def test_count_flips(letters: str, flips: int) -> None:
    assert count_flips(letters) == flips


def test_letters() -> None:
    assert [letter(o) for o in Outcome] == ["P", "F", "F", "S", "P", "F", "K"]
    assert letter("nonsense") == "S"


def test_regressions_are_new_or_recurred_infrastructure() -> None:
    infra, product = Category.INFRASTRUCTURE, Category.PRODUCT
    assert is_regression(Classification.NEW, infra)
    assert is_regression(Classification.RECURRED, infra)
    assert not is_regression(Classification.NEW, product)
    assert not is_regression(Classification.KNOWN, infra)
    assert not is_regression(Classification.PERSISTENT, infra)
    assert not is_regression(Classification.FLAKY, infra)


def _verdict(
    nodeid: str, classification: Classification, issue: int | None = None
) -> FailureVerdict:
    category = Category.INFRASTRUCTURE if nodeid.endswith("infra") else Category.PRODUCT
    return FailureVerdict(
        nodeid, "setup", "error", "E", "f" * 16, issue, None, classification, category
    )


def test_summary_counts_and_regressions() -> None:
    summary = summarise(
        {"passed": 5, "error": 3},
        [
            _verdict("a_infra", Classification.NEW),
            _verdict("b_infra", Classification.KNOWN, 1029),
            _verdict("c", Classification.NEW),
            _verdict("d_infra", Classification.KNOWN, 1029),
        ],
    )
    assert summary.outcomes == {"passed": 5, "error": 3}
    assert summary.classifications == {
        "known": 2,
        "recurred": 0,
        "flaky": 0,
        "new": 2,
        "persistent": 0,
    }
    assert summary.known_issues == {1029: 2}
    assert [r.nodeid for r in summary.regressions] == ["a_infra"]
