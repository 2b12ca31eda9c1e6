"""The known-issue knowledge base: loading and validating knowledge/, matching failures to it."""

from __future__ import annotations

from bot.core.errors import KnowledgeError
from bot.core.knowledge.base import KnowledgeBase, KnownIssue, load_knowledge, parse_knowledge
from bot.core.matching import Rule

__all__ = [
    "KnowledgeBase",
    "KnowledgeError",
    "KnownIssue",
    "Rule",
    "load_knowledge",
    "parse_knowledge",
]
