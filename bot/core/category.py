"""Failure category: infrastructure by phase or by a pattern of categories.toml, else product."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.matching import Matcher, Rule
from bot.core.model import Category, Failure, Match, Phase

DEFAULT_PHASES = (Phase.COLLECT, Phase.SETUP, Phase.TEARDOWN, Phase.CRASH)


@dataclass(frozen=True)
class CategoryRules:
    """Phases that are always infrastructure, and patterns that make any failure infrastructure."""

    phases: tuple[Phase, ...] = DEFAULT_PHASES
    patterns: tuple[Rule, ...] = ()
    _matcher: Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_matcher", Matcher(self.patterns))

    def pattern_for(self, failure: Failure) -> Rule | None:
        """Return the first infrastructure pattern that matches the failure, if any."""
        found = self._matcher.matching(failure)
        return found[0] if found else None

    def category(self, failure: Failure, match: Match | None) -> Category:
        """Infrastructure when the phase, a pattern or the matched known issue says so."""
        if failure.phase in self.phases:
            return Category.INFRASTRUCTURE
        if match is not None and match.category is Category.INFRASTRUCTURE:
            return Category.INFRASTRUCTURE
        if self.pattern_for(failure) is not None:
            return Category.INFRASTRUCTURE
        return Category.PRODUCT
