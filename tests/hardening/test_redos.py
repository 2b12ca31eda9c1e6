"""A knowledge rule with a catastrophic regex cannot slow matching: RE2 runs in linear time."""

from __future__ import annotations

import pytest

from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase, parse_knowledge
from bot.core.model import Failure, Outcome, Phase
from bot.shipped import DEFAULT_KNOWLEDGE_DIR


def _kb(pattern: str, field: str = "message") -> KnowledgeBase:
    files = {"categories.toml": (DEFAULT_KNOWLEDGE_DIR / "categories.toml").read_text()}
    files["issues/9999-redos.toml"] = (
        'issue = 9999\ntitle = "catastrophic"\ncategory = "product"\n\n'
        f"[[rules]]\nid = \"evil\"\n{field} = '''{pattern}'''\n"
    )
    return parse_knowledge(files)


def _failure(message: str) -> Failure:
    return Failure(
        nodeid="tests/test_x.py::test_x", phase=Phase.CALL, outcome=Outcome.FAILED,
        exception="ValueError", chain=("ValueError",), message=message, text=f"E   {message}",
        keywords=frozenset(),
    )  # fmt: skip


@pytest.mark.parametrize("field", ["message", "text"])
def test_nested_quantifier_on_a_long_near_match_completes(field: str) -> None:
    # Python's re takes about 2^n steps here: n = 200,000 would never finish.
    kb = _kb("(a+)+$", field)
    evil = _failure("a" * 200_000 + "!")
    assert [m for m in kb.match_many([evil] * 20) if m is not None] == []
    # The same rule still matches what it should.
    assert kb.match_many([_failure("a" * 200_000)])[0] is not None


def test_backreferences_are_refused_when_the_knowledge_is_loaded() -> None:
    # RE2 has no backtracking features; a rule needing them is a clear load error.
    with pytest.raises(TriageError):
        _kb(r"(a+)\1")
