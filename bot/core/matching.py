"""Rule matching: rules indexed by message pattern and exception type, RE2 sets, one scan each."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import re2

from bot.core.model import Failure, Phase

# Weights of each kind of condition in a rule's specificity: narrow conditions count more.
_WEIGHTS = {"nodeid": 3, "message": 3, "exception": 2, "keyword": 2, "text": 2, "phase": 1}
_EXCLUSION_WEIGHT = 1
# Bound on the per-chain cache (its keys are exception names, never a failure's text).
_CHAIN_LIMIT = 1 << 14
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

    def __len__(self) -> int:
        return len(self._index)

    def add(self, pattern: str | None) -> int:
        if pattern is None:
            return -1
        if pattern not in self._index:
            self._index[pattern] = self._wrapper.Add(pattern)
        return self._index[pattern]

    def compile(self) -> Callable[[bytes], list[int]] | None:
        """Compile the set; return its scan of UTF-8 bytes, or None when it holds no pattern."""
        if not self._index:
            return None
        self._wrapper.Compile()
        # The C set itself: its wrapper re-checks and re-encodes on every call.
        scan: Callable[[bytes], list[int]] = self._wrapper._set.Match
        return scan


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
    # The conditions left once the rule is reached through its anchor; None when none are.
    check: Check | None = field(init=False)
    # Ranks a rule among the others that claim the same failure, file order last.
    key: tuple[int, int, int, int] = field(init=False)
    # The answer when this rule alone matches: built once, shared by every such failure.
    hit: Hit = field(init=False)

    def __post_init__(self) -> None:
        self.needs_text = self.text >= 0 or self.not_text >= 0
        self.check = _checker(self, by_message=self.message >= 0)
        self.key = (*_rank(self.rule), self.order)
        self.hit = Hit(rule=self.rule)


@dataclass(frozen=True, slots=True)
class _Chain:
    """What one exception chain decides for every failure that has it, worked out once."""

    types: frozenset[str]
    # Rules reached without a message hit: by one of these types, or by nothing (always tried).
    pool: tuple[_Compiled, ...]
    # ("Type:", "Type") pairs, qualified then short, to drop from the front of the message.
    prefixes: tuple[tuple[str, str], ...]


class Matcher:
    """Compile rules once; find, per failure, the best matching rule of the best issue."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        messages, texts = _RegexSet(), _RegexSet()
        # Each rule is reached through one anchor, the most selective it has: its message
        # pattern's hit in the one scan of the message, else its exception types; only the rest
        # are tried always. The (long) text is scanned only when a surviving rule needs it.
        self._by_type: dict[str, list[_Compiled]] = {}
        by_message: dict[int, list[_Compiled]] = {}
        self._rest: list[_Compiled] = []
        for order, rule in enumerate(self.rules):
            compiled = _compile(rule, order, messages, texts)
            if compiled.message >= 0:
                by_message.setdefault(compiled.message, []).append(compiled)
            elif compiled.types:
                for name in compiled.types:
                    self._by_type.setdefault(name, []).append(compiled)
            else:
                self._rest.append(compiled)
        # Indexed by the message set's pattern number: exclusion-only patterns reach no rule.
        self._by_message = tuple(tuple(by_message.get(i, ())) for i in range(len(messages)))
        self._scan_message = messages.compile()
        self._scan_text = texts.compile()
        # Per (exception, chain): chains repeat across failures. Bounded, and holds no failure.
        self._chains: dict[tuple[str | None, tuple[str, ...]], _Chain] = {}

    def match(self, failure: Failure) -> Hit | None:
        """Return the winning rule for a failure, or None when no rule matches."""
        found = self._found(failure)
        if not found:
            return None
        if len(found) == 1:
            return found[0].hit
        return _decide(found)

    def matching(self, failure: Failure) -> list[Rule]:
        """Return every rule that matches a failure, in rule order."""
        found = self._found(failure)
        if len(found) > 1:
            found.sort(key=_order)
        return [c.rule for c in found]

    def _chain(self, failure: Failure) -> _Chain:
        key = (failure.exception, failure.chain)
        chain = self._chains.get(key)
        if chain is None:
            types = failure_types(failure)
            found = {c.order: c for c in self._rest}
            for name in types:
                found.update((c.order, c) for c in self._by_type.get(name, ()))
            exception = failure.exception
            names = (exception, exception.rpartition(".")[2]) if exception else ()
            chain = _Chain(
                types=types,
                pool=tuple(found[order] for order in sorted(found)),
                prefixes=tuple((f"{name}:", name) for name in names),
            )
            if len(self._chains) >= _CHAIN_LIMIT:
                self._chains.clear()
            self._chains[key] = chain
        return chain

    def _found(self, failure: Failure) -> list[_Compiled]:
        """Every rule that matches a failure, in no particular order."""
        chain = self._chain(failure)
        # Rules see the message without the "Type: " prefix some report formats repeat (as
        # signature.strip_type drops it); what is scanned is capped, so one failure costs
        # bounded, linear work.
        message = failure.message
        if len(message) > MAX_SCANNED:
            message = message[:MAX_SCANNED]
        for prefix, name in chain.prefixes:
            if message.startswith(prefix):
                message = message[len(prefix) :].lstrip()
                break
            if message == name:
                message = ""
                break
        candidates: Sequence[_Compiled] = chain.pool
        hits: list[int] = []
        if self._scan_message is not None:
            # A lone surrogate (valid in a str) must not make the scan raise.
            hits = self._scan_message(message.encode("utf-8", "surrogatepass"))
            if hits:
                by_message = self._by_message
                candidates = [*candidates, *(c for i in hits for c in by_message[i])]
        types = chain.types
        texts: list[int] | None = None
        found: list[_Compiled] = []
        for c in candidates:
            check = c.check
            if check is not None and not check(failure, types, hits):
                continue
            if c.needs_text:
                if texts is None:
                    texts = self._scan_texts(failure.text)
                if (c.text >= 0 and c.text not in texts) or c.not_text in texts:
                    continue
            found.append(c)
        return found

    def _scan_texts(self, text: str) -> list[int]:
        if self._scan_text is None:
            return []
        return self._scan_text(text[:MAX_SCANNED].encode("utf-8", "surrogatepass"))


def _compile(rule: Rule, order: int, messages: _RegexSet, texts: _RegexSet) -> _Compiled:
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
        message=messages.add(rule.message),
        not_message=messages.add(rule.not_message),
        text=texts.add(rule.text),
        not_text=texts.add(rule.not_text),
    )


def _order(c: _Compiled) -> int:
    return c.order


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


def _checker(c: _Compiled, by_message: bool) -> Check | None:
    """Compile the conditions of c but its anchor and the text ones; None when none are left.

    A rule with a message pattern is reached only through its pattern's hit, one without
    through one of its exception types (when it has any): that condition holds already.
    """
    anchor = "message" if by_message else "types"
    values: dict[str, object] = {
        "message": c.message, "not_message": c.not_message, "phase": c.phase,
        "not_phase": c.not_phase, "types": c.types, "not_types": c.not_types,
        "keyword": c.keyword, "not_keyword": c.not_keyword,
        "nodeid": c.nodeid.match if c.nodeid else None,
        "not_nodeid": c.not_nodeid.match if c.not_nodeid else None,
    }  # fmt: skip
    present = [expr for name, expr in _CHECKS if _given(values[name]) and name != anchor]
    if not present:
        return None
    source = f"lambda f, t, m: {' and '.join(present)}"
    # The lambda's names are looked up in its globals: the values, and no builtins.
    check: Check = eval(source, {"__builtins__": {}, **values})  # noqa: S307  # fixed fragments
    return check


def _rank(rule: Rule) -> tuple[int, int, int]:
    return (-rule.priority, -rule.specificity, rule.issue)


def _key(c: _Compiled) -> tuple[int, int, int, int]:
    return c.key


def _decide(found: list[_Compiled]) -> Hit:
    """Pick one of several rules: highest priority, most specific, lowest issue, file order."""
    winner = min(found, key=_key).rule
    others = sorted({c.rule.issue for c in found} - {winner.issue})
    return Hit(rule=winner, ambiguous_with=tuple(others))
