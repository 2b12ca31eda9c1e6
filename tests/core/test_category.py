"""Categories: infrastructure by phase, by pattern or by known issue; product otherwise."""

from __future__ import annotations

import pytest

from bot.core.category import DEFAULT_PHASES, CategoryRules
from bot.core.matching import Rule
from bot.core.model import Category, Failure, Match, Outcome, Phase

RULES = CategoryRules(
    patterns=(
        Rule("categories#imports", 0, exception=("ImportError",)),
        Rule("categories#dns", 0, message="Name or service not known"),
    )
)


def make(
    phase: Phase = Phase.CALL, exception: str = "AssertionError", message: str = ""
) -> Failure:
    return Failure("t.py::t", phase, Outcome.FAILED, exception, (exception,), message, "")


@pytest.mark.parametrize("phase", [Phase.COLLECT, Phase.SETUP, Phase.TEARDOWN, Phase.CRASH])
def test_non_call_phases_are_infrastructure(phase: Phase) -> None:
    assert RULES.category(make(phase), None) is Category.INFRASTRUCTURE


def test_patterns_make_a_call_failure_infrastructure() -> None:
    imports = make(exception="ImportError")
    assert RULES.pattern_for(imports) == RULES.patterns[0]
    assert RULES.category(imports, None) is Category.INFRASTRUCTURE
    dns = make(exception="socket.gaierror", message="[Errno -2] Name or service not known")
    assert RULES.category(dns, None) is Category.INFRASTRUCTURE


def test_known_issue_category_counts() -> None:
    infra = Match(issue=1, rule="x#y", category=Category.INFRASTRUCTURE)
    product = Match(issue=2, rule="x#z", category=Category.PRODUCT)
    assert RULES.category(make(), infra) is Category.INFRASTRUCTURE
    assert RULES.category(make(), product) is Category.PRODUCT
    assert RULES.category(make(phase=Phase.SETUP), product) is Category.INFRASTRUCTURE


def test_a_plain_call_failure_is_product() -> None:
    assert RULES.pattern_for(make()) is None
    assert RULES.category(make(), None) is Category.PRODUCT


def test_phases_are_configurable() -> None:
    only_collect = CategoryRules(phases=(Phase.COLLECT,))
    assert only_collect.category(make(Phase.SETUP), None) is Category.PRODUCT
    assert CategoryRules().phases == DEFAULT_PHASES
