"""Rule matching: rules indexed by exception type, regexes combined into RE2 sets, a memo."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import re2

from bot.core.model import Failure, Phase
from bot.core.signature import strip_type

# Weights of each kind of condition in a rule's specificity: narrow conditions count more.
_WEIGHTS = {"nodeid": 3, "message": 3, "exception": 2, "keyword": 2, "text": 2, "phase": 1}
_EXCLUSION_WEIGHT = 1
# Bounded: entries keep their failure (and its text) alive.
_MEMO_LIMIT = 1 << 14
_SET_MAX_MEM = 64 << 20
# Characters of a message or text scanned per failure: a bound on one failure's work far
# above any real traceback.
MAX_SCANNED = 4 << 20


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

    @cached_property
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
        self._wrapper = re2.Set.SearchSet(re2_options())
        # The C set itself: its wrapper re-checks and re-encodes on every call.
        self._set = self._wrapper._set

    def add(self, pattern: str | None) -> int:
        if pattern is None:
            return -1
        if pattern not in self._index:
            self._index[pattern] = self._wrapper.Add(pattern)
        return self._index[pattern]

    def compile(self) -> None:
        if self._index:
            self._wrapper.Compile()

    def scan(self, text: str) -> list[int]:
        if not self._index:
            return []
        # A lone surrogate (valid in a str) must not make the scan raise.
        hits: list[int] = self._set.Match(text.encode("utf-8", "surrogatepass"))
        return hits


Check = Callable[[Failure, frozenset[str], list[int]], bool]


@dataclass(slots=True)
class _Compiled:
    rule: Rule
    order: int
    types: frozenset[str]
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
    needs_text: bool = field(init=False)
    check: Check = field(init=False)

    def __post_init__(self) -> None:
        self.needs_text = self.text >= 0 or self.not_text >= 0
        self.check = _checker(self, by_type=not (self.message >= 0) and bool(self.types))


class Matcher:
    """Compile rules once; find, per failure, the best matching rule of the best issue."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._messages = _RegexSet()
        self._texts = _RegexSet()
        # Each rule is reached through one anchor, the most selective it has: its message
        # pattern's hit in the one scan of the message, else its exception types; only the rest
        # are tried always. The (long) text is scanned only when a surviving rule needs it.
        self._by_type: dict[str, list[_Compiled]] = {}
        self._by_message: dict[int, list[_Compiled]] = {}
        self._rest: list[_Compiled] = []
        for order, rule in enumerate(self.rules):
            compiled = self._compile(rule, order)
            if compiled.message >= 0:
                self._by_message.setdefault(compiled.message, []).append(compiled)
            elif compiled.types:
                for name in compiled.types:
                    self._by_type.setdefault(name, []).append(compiled)
            else:
                self._rest.append(compiled)
        self._messages.compile()
        self._texts.compile()
        # Candidates per set of exception names, in rule order: chains repeat across failures.
        self._pools: dict[frozenset[str], tuple[_Compiled, ...]] = {}
        self._types: dict[tuple[str | None, tuple[str, ...]], frozenset[str]] = {}
        self._memo: dict[Failure, Hit | None] = {}
        self.memo_hits = 0
        self.memo_misses = 0

    def _compile(self, rule: Rule, order: int) -> _Compiled:
        return _Compiled(
            rule=rule,
            order=order,
            types=frozenset(normalise_type(n) for n in rule.exception),
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

    def _failure_types(self, failure: Failure) -> frozenset[str]:
        key = (failure.exception, failure.chain)
        types = self._types.get(key)
        if types is None:
            if len(self._types) >= _MEMO_LIMIT:
                self._types.clear()
            types = self._types[key] = failure_types(failure)
        return types

    def _pool(self, types: frozenset[str]) -> tuple[_Compiled, ...]:
        pool = self._pools.get(types)
        if pool is None:
            found = {c.order: c for c in self._rest}
            for name in types:
                found.update((c.order, c) for c in self._by_type.get(name, ()))
            pool = tuple(found[order] for order in sorted(found))
            if len(self._pools) >= _MEMO_LIMIT:
                self._pools.clear()
            self._pools[types] = pool
        return pool

    def matching(self, failure: Failure) -> list[Rule]:
        """Return every rule that matches a failure, in rule order."""
        types = self._failure_types(failure)
        # Rules see the message without the "Type: " prefix some report formats repeat; what is
        # scanned is capped, so one failure costs bounded, linear work.
        message = strip_type(failure.message[:MAX_SCANNED], failure.exception)
        messages = self._messages.scan(message)
        pool = self._pool(types)
        if messages:
            by_message = self._by_message
            extra = [c for i in messages for c in by_message.get(i, ())]
            if extra:
                merged = {c.order: c for c in pool}
                merged.update((c.order, c) for c in extra)
                pool = tuple(merged[order] for order in sorted(merged))
        texts: list[int] | None = None
        found: list[Rule] = []
        for c in pool:
            if not c.check(failure, types, messages):
                continue
            if c.needs_text:
                if texts is None:
                    texts = self._texts.scan(failure.text[:MAX_SCANNED])
                if (c.text >= 0 and c.text not in texts) or c.not_text in texts:
                    continue
            found.append(c.rule)
        return found


# Each rule's cheap conditions become one short-circuit expression holding only the checks the
# rule has, cheapest first. The source is built from these fixed fragments alone; patterns and
# sets are passed in as values, never as text.
_CHECKS = (
    ("message", "message in m"),
    ("not_message", "not_message not in m"),
    ("phase", "f.phase in phase"),
    ("not_phase", "f.phase not in not_phase"),
    ("types", "not types.isdisjoint(t)"),
    ("not_types", "not_types.isdisjoint(t)"),
    ("keyword", "not keyword.isdisjoint(f.keywords)"),
    ("not_keyword", "not_keyword.isdisjoint(f.keywords)"),
    ("nodeid", "nodeid(f.nodeid) is not None"),
    ("not_nodeid", "not_nodeid(f.nodeid) is None"),
)


def _given(value: object) -> bool:
    return value >= 0 if isinstance(value, int) else bool(value)


def _checker(c: _Compiled, by_type: bool) -> Check:
    """Compile the conditions of c but the text ones; a rule reached by type has its type."""
    values: dict[str, object] = {
        "message": c.message, "not_message": c.not_message, "phase": c.phase,
        "not_phase": c.not_phase, "types": c.types, "not_types": c.not_types,
        "keyword": c.keyword, "not_keyword": c.not_keyword,
        "nodeid": c.nodeid.match if c.nodeid else None,
        "not_nodeid": c.not_nodeid.match if c.not_nodeid else None,
    }  # fmt: skip
    present = [
        expr for name, expr in _CHECKS if _given(values[name]) and not (name == "types" and by_type)
    ]
    source = f"lambda f, t, m: {' and '.join(present) or 'True'}"
    # The lambda's names are looked up in its globals: the values, and no builtins.
    check: Check = eval(source, {"__builtins__": {}, **values})  # noqa: S307  # fixed fragments
    return check


def _rank(rule: Rule) -> tuple[int, int, int]:
    return (-rule.priority, -rule.specificity, rule.issue)


def _decide(rules: list[Rule]) -> Hit | None:
    """Pick one rule: highest priority, then most specific, then lowest issue, then file order."""
    if not rules:
        return None
    if len(rules) == 1:
        return Hit(rule=rules[0])
    # sorted() is stable, so among equal ranks the earlier rule (file order) wins.
    winner = sorted(rules, key=_rank)[0]
    others = sorted({r.issue for r in rules} - {winner.issue})
    return Hit(rule=winner, ambiguous_with=tuple(others))
