"""Knowledge port: what ingest needs of the knowledge base."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.core.model import Category, Failure, Match


class RuleView(Protocol):
    @property
    def id(self) -> str: ...


class KnownIssueView(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def rules(self) -> Sequence[RuleView]: ...

    @property
    def title(self) -> str: ...

    @property
    def category(self) -> Category: ...


class Knowledge(Protocol):
    """What ingest needs of the knowledge base (bot.core.knowledge.KnowledgeBase fits)."""

    @property
    def digest(self) -> str: ...

    @property
    def issues(self) -> Mapping[int, KnownIssueView]: ...

    def match_many(self, failures: Sequence[Failure]) -> Sequence[Match | None]: ...

    def category(self, failure: Failure, match: Match | None) -> Category: ...
