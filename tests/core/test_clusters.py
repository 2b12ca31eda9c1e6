"""Suggested rules: valid knowledge TOML that matches the cluster's failures and not others."""

from __future__ import annotations

import pytest

from bot.core.clusters import suggest_rule
from bot.core.knowledge import parse_knowledge
from bot.core.model import Failure, Outcome, Phase
from bot.core.signature import fingerprint


def _failure(
    message: str,
    *,
    exception: str | None = "redis.exceptions.ConnectionError",
    phase: Phase = Phase.SETUP,
    nodeid: str = "tests/test_a.py::test_a",
) -> Failure:
    chain = (exception,) if exception else ()
    outcome = Outcome.FAILED if phase is Phase.CALL else Outcome.ERROR
    return Failure(nodeid, phase, outcome, exception, chain, message, message)


def _kb_with(rule: str):  # type: ignore[no-untyped-def]
    issue = 'issue = 9\ntitle = "t"\ncategory = "product"\n' + rule
    return parse_knowledge({"issues/9-t.toml": issue})


@pytest.mark.parametrize(
    "message",
    [
        "Error 111 connecting to redis:6379. Connection refused.",
        "timeout after 30.5s (limit [a|b]) at 0xdeadbeef in /srv/app/x.py",
        "it's 'quoted' \\ with backslash",
        "",
    ],
)
def test_suggested_rule_loads_and_matches_its_cluster(message: str) -> None:
    first = _failure(message)
    kb = _kb_with(suggest_rule(first, fingerprint(first)))
    assert kb.match(first) is not None
    other = _failure(message.replace("111", "104").replace("30.5", "12.0"), nodeid="t.py::b")
    assert fingerprint(other) == fingerprint(first)
    assert kb.match(other) is not None


def test_suggested_rule_does_not_match_a_different_failure() -> None:
    first = _failure("Error 111 connecting to redis:6379. Connection refused.")
    kb = _kb_with(suggest_rule(first, fingerprint(first)))
    assert kb.match(_failure("assert 1 == 2", exception="AssertionError")) is None
    call = _failure("Error 111 connecting to redis:6379. Connection refused.", phase=Phase.CALL)
    assert kb.match(call) is None  # the phase is part of the rule when it is not call


def test_a_failure_without_exception_or_message_gets_a_nodeid_rule() -> None:
    bare = _failure("", exception=None, nodeid="tests/test_b.py::test_b")
    rule = suggest_rule(bare, "0123456789abcdef")
    assert "nodeid = 'tests/test_b.py::test_b'" in rule
    assert 'id = "fp-0123456789ab"' in rule
    assert _kb_with(rule).match(bare) is not None
