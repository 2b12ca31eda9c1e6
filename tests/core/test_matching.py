"""The matcher: conditions, the winner between issues, the per-chain cache, a plain oracle."""

from __future__ import annotations

import fnmatch
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.matching import Hit, Matcher, Rule, failure_types
from bot.core.model import Failure, Outcome, Phase
from bot.core.signature import strip_type


def make(
    *,
    nodeid: str = "tests/e2e/test_a.py::test_x",
    phase: Phase = Phase.CALL,
    exception: str | None = "AssertionError",
    chain: tuple[str, ...] | None = None,
    message: str = "boom",
    text: str = "E   boom",
    keywords: frozenset[str] = frozenset(),
) -> Failure:
    return Failure(
        nodeid=nodeid,
        phase=phase,
        outcome=Outcome.FAILED,
        exception=exception,
        chain=chain if chain is not None else ((exception,) if exception else ()),
        message=message,
        text=text,
        keywords=keywords,
    )


def ids(matcher: Matcher, failure: Failure) -> list[str]:
    return [r.id for r in matcher.matching(failure)]


@pytest.mark.parametrize(
    ("rule", "yes", "no"),
    [
        (Rule("f#r", 1, nodeid=("tests/e2e/*",)), make(), make(nodeid="tests/unit/t.py::t")),
        (Rule("f#r", 1, message="boo", phase=(Phase.SETUP,)), make(phase=Phase.SETUP), make()),
        (Rule("f#r", 1, exception=("KeyError",)), make(exception="KeyError"), make()),
        (Rule("f#r", 1, keyword=("e2e",)), make(keywords=frozenset({"e2e"})), make()),
        (Rule("f#r", 1, message="^bo+m$"), make(), make(message="no boom here")),
        (Rule("f#r", 1, text="E +boom"), make(), make(text="fine")),
        (Rule("f#r", 1, message="b", not_nodeid=("*unit*",)), make(), make(nodeid="unit::t")),
        (Rule("f#r", 1, message="b", not_phase=(Phase.SETUP,)), make(), make(phase=Phase.SETUP)),
        (
            Rule("f#r", 1, message="b", not_exception=("KeyError",)),
            make(),
            make(exception="builtins.KeyError"),
        ),
        (
            Rule("f#r", 1, message="b", not_keyword=("slow",)),
            make(),
            make(keywords=frozenset({"slow"})),
        ),
        (Rule("f#r", 1, message="b", not_message="oo"), make(message="b"), make()),
        (Rule("f#r", 1, message="b", not_text="boom"), make(text="ok"), make()),
        (Rule("f#r", 1, text="E", not_text="boom"), make(text="E ok"), make()),
    ],
)
def test_each_condition_and_exclusion(rule: Rule, yes: Failure, no: Failure) -> None:
    matcher = Matcher([rule])
    assert ids(matcher, yes) == ["f#r"]
    assert ids(matcher, no) == []


def test_exception_matches_anywhere_in_the_chain_short_or_qualified() -> None:
    chained = make(
        exception="redis.exceptions.ConnectionError",
        chain=("builtins.ConnectionRefusedError", "redis.exceptions.ConnectionError"),
    )
    for name in (
        "ConnectionRefusedError",
        "builtins.ConnectionRefusedError",
        "ConnectionError",
        "redis.exceptions.ConnectionError",
    ):
        assert ids(Matcher([Rule("f#r", 1, exception=(name,))]), chained) == ["f#r"], name
    qualified = Matcher([Rule("f#r", 1, exception=("redis.exceptions.ConnectionError",))])
    assert ids(qualified, make(exception="ConnectionError")) == []


def test_failure_types_lists_short_and_qualified_names() -> None:
    failure = make(exception="a.b.C", chain=("builtins.OSError", "a.b.C"))
    assert failure_types(failure) == {"OSError", "a.b.C", "C"}
    assert failure_types(make(exception=None)) == frozenset()


def test_a_rule_needs_every_condition() -> None:
    matcher = Matcher([Rule("f#r", 1, exception=("KeyError",), message="x", phase=(Phase.CALL,))])
    assert ids(matcher, make(exception="KeyError", message="x")) == ["f#r"]
    assert ids(matcher, make(exception="KeyError", message="y")) == []
    assert ids(matcher, make(exception="ValueError", message="x")) == []


def test_priority_wins_over_specificity_and_losers_are_reported() -> None:
    narrow = Rule("a#n", 1, exception=("KeyError",), message="x", nodeid=("*",))
    urgent = Rule("b#u", 2, priority=5, message="x")
    hit = Matcher([narrow, urgent]).match(make(exception="KeyError", message="x"))
    assert hit == Hit(rule=urgent, ambiguous_with=(1,))


def test_specificity_breaks_a_priority_tie() -> None:
    broad = Rule("a#b", 1, message="x")
    narrow = Rule("b#n", 2, message="x", exception=("KeyError",))
    assert narrow.specificity > broad.specificity
    hit = Matcher([broad, narrow]).match(make(exception="KeyError", message="x"))
    assert hit == Hit(rule=narrow, ambiguous_with=(1,))


def test_lowest_issue_breaks_a_full_tie_then_file_order() -> None:
    rules = [Rule("c#r", 9, message="x"), Rule("b#r", 3, message="x"), Rule("b#s", 3, text="E")]
    hit = Matcher(rules).match(make(message="x", text="E"))
    assert hit == Hit(rule=rules[1], ambiguous_with=(9,))
    same_issue = Matcher([Rule("b#one", 3, message="x"), Rule("b#two", 3, message="x")])
    assert same_issue.match(make(message="x")) == Hit(rule=Rule("b#one", 3, message="x"))


def test_exclusions_add_to_specificity() -> None:
    assert Rule("a#r", 1, message="x", not_message="y").specificity == (
        Rule("a#r", 1, message="x").specificity + 1
    )


def test_no_match_and_a_repeated_failure() -> None:
    matcher = Matcher([Rule("f#r", 1, message="x")])
    failure = make(message="nothing")
    assert matcher.match(failure) is None
    assert matcher.match(failure) is None
    assert matcher.match(make(message="x")) == Hit(rule=Rule("f#r", 1, message="x"))


def test_the_per_chain_cache_is_bounded_and_keeps_no_failure() -> None:
    matcher = Matcher([Rule("f#r", 1, exception=("KeyError",))])
    for i in range(20_000):
        failure = make(exception=f"m{i}.KeyError", message=f"x{i}", text="t" * 1000)
        assert matcher.match(failure) is not None
    assert 0 < len(matcher._chains) <= 1 << 14
    # Nothing holds on to a matched failure (and its possibly long text).
    failure = make(exception="KeyError", text="t" * 1000)
    before = sys.getrefcount(failure)
    assert matcher.match(failure) is not None
    assert sys.getrefcount(failure) == before


def test_empty_matcher_matches_nothing() -> None:
    assert Matcher([]).match(make()) is None


def test_collection_errors_are_matched() -> None:
    matcher = Matcher([Rule("f#r", 1, exception=("ImportError",), phase=(Phase.COLLECT,))])
    failure = make(nodeid="tests/test_b.py", phase=Phase.COLLECT, exception="ImportError")
    assert ids(matcher, failure) == ["f#r"]


# ----------------------------------------------------------------- oracle
WORDS = ["alpha", "beta", "Gamma 12", "x:6379", "", "KeyError:", "a.KeyError:"]
TYPES = ["KeyError", "a.KeyError", "builtins.ValueError", "b.Err"]
RULES = [
    Rule("o#1", 1, message="alpha"),
    Rule("o#2", 2, exception=("KeyError",), not_message="beta"),
    Rule("o#3", 3, text="(?i)gamma \\d+", phase=(Phase.CALL, Phase.SETUP)),
    Rule("o#4", 4, nodeid=("t/*::a*",), not_exception=("b.Err",)),
    Rule("o#5", 5, keyword=("k1",), message=":6379", not_text="alpha"),
    Rule("o#6", 6, exception=("a.KeyError", "ValueError"), text="beta", not_phase=(Phase.SETUP,)),
    Rule("o#7", 7, nodeid=("t/x.py::*",), not_nodeid=("*::ab",), not_keyword=("k2",)),
    Rule("o#8", 8, message="^(?:alpha|KeyError)"),
]


def _oracle(rule: Rule, f: Failure) -> bool:
    types = failure_types(f)
    norm = {t.removeprefix("builtins.") for t in rule.exception}
    not_norm = {t.removeprefix("builtins.") for t in rule.not_exception}
    bare = strip_type(f.message, f.exception)
    return all(
        [
            not rule.phase or f.phase in rule.phase,
            f.phase not in rule.not_phase,
            not norm or bool(norm & types),
            not not_norm & types,
            not rule.keyword or bool(set(rule.keyword) & f.keywords),
            not set(rule.not_keyword) & f.keywords,
            not rule.nodeid or any(fnmatch.fnmatchcase(f.nodeid, g) for g in rule.nodeid),
            not any(fnmatch.fnmatchcase(f.nodeid, g) for g in rule.not_nodeid),
            rule.message is None or re.search(rule.message, bare) is not None,
            rule.not_message is None or re.search(rule.not_message, bare) is None,
            rule.text is None or re.search(rule.text, f.text) is not None,
            rule.not_text is None or re.search(rule.not_text, f.text) is None,
        ]
    )


failures = st.builds(
    make,
    nodeid=st.sampled_from(["t/x.py::ab", "t/x.py::ac", "t/y.py::b", "u::a"]),
    phase=st.sampled_from(list(Phase)),
    exception=st.sampled_from([*TYPES, None]),
    chain=st.lists(st.sampled_from(TYPES), max_size=3).map(tuple),
    message=st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join),
    text=st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join),
    keywords=st.frozensets(st.sampled_from(["k1", "k2"])),
)


@settings(max_examples=400, deadline=None)
@given(failures)
def test_matcher_agrees_with_a_plain_loop(failure: Failure) -> None:
    matcher = Matcher(RULES)
    assert ids(matcher, failure) == [r.id for r in RULES if _oracle(r, failure)]


def test_message_rules_see_the_message_without_its_type_prefix() -> None:
    matcher = Matcher([Rule("f#r", 1, message="^'Test\\w*' object")])
    for message in ("'TestA' object", "AttributeError: 'TestA' object"):
        assert ids(matcher, make(exception="AttributeError", message=message)) == ["f#r"]
    qualified = make(exception="x.y.Err", message="x.y.Err: 'TestA' object")
    assert ids(matcher, qualified) == ["f#r"]
    assert ids(matcher, make(exception="KeyError", message="AttributeError: 'TestA' object")) == []


@settings(max_examples=300, deadline=None)
@given(failures)
def test_the_winner_is_the_first_of_the_plain_loop_sorted_by_rank(failure: Failure) -> None:
    # o#9 has the issue and the rank of o#2, so file order must decide between them, as a
    # stable sort would; o#10 outranks every other rule by its priority.
    rules = [*RULES, Rule("o#9", 2, message="alpha"), Rule("o#10", 1, priority=1, text="beta")]
    found = [r for r in rules if _oracle(r, failure)]
    hit = Matcher(rules).match(failure)
    if not found:
        assert hit is None
        return
    winner = sorted(found, key=lambda r: (-r.priority, -r.specificity, r.issue))[0]
    others = tuple(sorted({r.issue for r in found} - {winner.issue}))
    assert hit == Hit(rule=winner, ambiguous_with=others)
