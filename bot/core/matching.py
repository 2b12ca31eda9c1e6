"""Rule matching: rules indexed by exception type, regexes combined into RE2 sets, a memo."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import re2

from bot.core.model import Failure, Phase
from bot.core.signature import strip_type

# Weights of each kind of condition in a rule's specificity: narrow conditions count more.
_WEIGHTS = {"nodeid": 3, "message": 3, "exception": 2, "keyword": 2, "text": 2, "phase": 1}
_EXCLUSION_WEIGHT = 1
# Bounded: entries keep their failure (and its text) alive.
_MEMO_LIMIT = 1 << 14
_SET_MAX_MEM = 64 << 20


@dataclass(frozen=True)
class Rule:
    """One way to recognise a known issue: every condition given must hold, no exclusion may."""

    id: str  # "<file stem>#<rule id>"
    issue: int
    priority: int = 0
    nodeid: tuple[str, ...] = ()
    phase: tuple[Phase, ...] = ()
    exception: tuple[str, ...] = ()
    keyword: tuple[str, ...] = ()
    message: str | None = None
    text: str | None = None
    not_nodeid: tuple[str, ...] = ()
    not_phase: tuple[Phase, ...] = ()
    not_exception: tuple[str, ...] = ()
    not_keyword: tuple[str, ...] = ()
    not_message: str | None = None
    not_text: str | None = None

    @property
    def specificity(self) -> int:
        """Score how narrow the rule is, from the number and kind of its conditions."""
        score = sum(weight for name, weight in _WEIGHTS.items() if getattr(self, name))
        exclusions = sum(1 for name in _WEIGHTS if getattr(self, f"not_{name}"))
        return score + exclusions * _EXCLUSION_WEIGHT


@dataclass(frozen=True, slots=True)
class Hit:
    """The winning rule for a failure and the other issues whose rules also matched."""

    rule: Rule
    ambiguous_with: tuple[int, ...] = ()


def re2_options() -> re2.Options:
    """Options for every user pattern: no logging to stderr, room for combined sets."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _SET_MAX_MEM
    return options


def normalise_type(name: str) -> str:
    """Drop the "builtins." prefix so both spellings of a builtin compare equal."""
    return name.removeprefix("builtins.")


def failure_types(failure: Failure) -> frozenset[str]:
    """Every exception name of a failure's chain, qualified and short."""
    names: set[str] = set()
    for raw in (*failure.chain, failure.exception):
        if raw:
            name = normalise_type(raw)
            names.add(name)
            names.add(name.rpartition(".")[2])
    return frozenset(names)


def _glob(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    # fnmatch's translation is linear-time (no nested quantifiers), so Python re is safe here.
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


class _RegexSet:
    """Distinct patterns in one RE2 set, so one scan finds every pattern that matches."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._set = re2.Set.SearchSet(re2_options())

    def add(self, pattern: str | None) -> int:
        if pattern is None:
            return -1
        if pattern not in self._index:
            self._index[pattern] = self._set.Add(pattern)
        return self._index[pattern]

    def compile(self) -> None:
        if self._index:
            self._set.Compile()

    def scan(self, text: str) -> frozenset[int]:
        if not self._index:
            return frozenset()
        return frozenset(self._set.Match(text) or ())


@dataclass(slots=True)
class _Compiled:
    rule: Rule
    order: int
    nodeid: re.Pattern[str] | None
    not_nodeid: re.Pattern[str] | None
    phase: frozenset[Phase]
    not_phase: frozenset[Phase]
    not_types: frozenset[str]
    keyword: frozenset[str]
    not_keyword: frozenset[str]
    message: int
    not_message: int
    text: int
    not_text: int
    needs_message: bool = field(init=False)
    needs_text: bool = field(init=False)

    def __post_init__(self) -> None:
        self.needs_message = self.message >= 0 or self.not_message >= 0
        self.needs_text = self.text >= 0 or self.not_text >= 0


class Matcher:
    """Compile rules once; find, per failure, the best matching rule of the best issue."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._messages = _RegexSet()
        self._texts = _RegexSet()
        # Each rule is reached through one anchor: its exception types, else its message
        # pattern's hit in the set scan; only the rest are tried always, and the (long) text
        # is scanned only when a rule that survived the cheap checks needs it.
        self._by_type: dict[str, list[_Compiled]] = {}
        self._by_message: dict[int, list[_Compiled]] = {}
        self._rest: list[_Compiled] = []
        for order, rule in enumerate(self.rules):
            compiled = self._compile(rule, order)
            if rule.exception:
                for name in {normalise_type(n) for n in rule.exception}:
                    self._by_type.setdefault(name, []).append(compiled)
            elif compiled.message >= 0:
                self._by_message.setdefault(compiled.message, []).append(compiled)
            else:
                self._rest.append(compiled)
        self._messages.compile()
        self._texts.compile()
        self._memo: dict[Failure, Hit | None] = {}
        self.memo_hits = 0
        self.memo_misses = 0

    def _compile(self, rule: Rule, order: int) -> _Compiled:
        return _Compiled(
            rule=rule,
            order=order,
            nodeid=_glob(rule.nodeid),
            not_nodeid=_glob(rule.not_nodeid),
            phase=frozenset(rule.phase),
            not_phase=frozenset(rule.not_phase),
            not_types=frozenset(normalise_type(n) for n in rule.not_exception),
            keyword=frozenset(rule.keyword),
            not_keyword=frozenset(rule.not_keyword),
            message=self._messages.add(rule.message),
            not_message=self._messages.add(rule.not_message),
            text=self._texts.add(rule.text),
            not_text=self._texts.add(rule.not_text),
        )

    def match(self, failure: Failure) -> Hit | None:
        """Return the winning rule for a failure, or None when no rule matches."""
        try:
            hit = self._memo[failure]
        except KeyError:
            self.memo_misses += 1
            hit = _decide(self.matching(failure))
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[failure] = hit
            return hit
        self.memo_hits += 1
        return hit

    def matching(self, failure: Failure) -> list[Rule]:
        """Return every rule that matches a failure, in rule order."""
        types = failure_types(failure)
        # Rules see the message without the "Type: " prefix some report formats repeat.
        messages = self._messages.scan(strip_type(failure.message, failure.exception))
        texts: frozenset[int] | None = None
        pool: dict[int, _Compiled] = {}
        for c in self._rest:
            pool[c.order] = c
        by_type = self._by_type
        for name in types:
            for c in by_type.get(name, ()):
                pool[c.order] = c
        by_message = self._by_message
        for index in messages:
            for c in by_message.get(index, ()):
                pool[c.order] = c
        found: list[Rule] = []
        for order in sorted(pool):
            c = pool[order]
            if not _plain_ok(c, failure, types):
                continue
            if texts is None and c.needs_text:
                texts = self._texts.scan(failure.text)
            if _regex_ok(c, messages, texts):
                found.append(c.rule)
        return found


def _plain_ok(c: _Compiled, failure: Failure, types: frozenset[str]) -> bool:
    """Check the conditions that need no regex scan: phase, types, keywords, node id."""
    return not (
        (c.phase and failure.phase not in c.phase)
        or (failure.phase in c.not_phase)
        or (c.not_types and not c.not_types.isdisjoint(types))
        or (c.keyword and c.keyword.isdisjoint(failure.keywords))
        or (c.not_keyword and not c.not_keyword.isdisjoint(failure.keywords))
        or (c.nodeid is not None and c.nodeid.match(failure.nodeid) is None)
        or (c.not_nodeid is not None and c.not_nodeid.match(failure.nodeid) is not None)
    )


def _regex_ok(c: _Compiled, messages: frozenset[int], texts: frozenset[int] | None) -> bool:
    """Check the regex conditions against the set scans (texts is scanned when c needs it)."""
    if c.needs_message and (
        (c.message >= 0 and c.message not in messages) or c.not_message in messages
    ):
        return False
    return not (
        texts is not None
        and c.needs_text
        and ((c.text >= 0 and c.text not in texts) or c.not_text in texts)
    )


def _rank(rule: Rule) -> tuple[int, int, int]:
    return (-rule.priority, -rule.specificity, rule.issue)


def _decide(rules: list[Rule]) -> Hit | None:
    """Pick one rule: highest priority, then most specific, then lowest issue, then file order."""
    if not rules:
        return None
    # sorted() is stable, so among equal ranks the earlier rule (file order) wins.
    winner = sorted(rules, key=_rank)[0]
    others = sorted({r.issue for r in rules} - {winner.issue})
    return Hit(rule=winner, ambiguous_with=tuple(others))
