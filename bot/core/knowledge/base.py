"""The loaded knowledge base: known issues, their compiled rules and the category patterns."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any

from bot.core.category import CategoryRules
from bot.core.errors import KnowledgeError
from bot.core.knowledge.parse import (
    Problems,
    check_issue_header,
    parse_categories,
    parse_comments,
    parse_rules,
    read_toml,
)
from bot.core.matching import Matcher, Rule
from bot.core.model import Category, Failure, Match

CATEGORIES_FILE = "categories.toml"
ISSUES_DIR = "issues"


@dataclass(frozen=True)
class KnownIssue:
    """One entry of the knowledge base, tied to a GitHub issue."""

    number: int
    title: str
    category: Category
    rules: tuple[Rule, ...]
    comment_policy: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""
    priority: int = 0


class KnowledgeBase:
    """Known issues with every rule compiled once; matches failures and gives their category."""

    def __init__(
        self, issues: Sequence[KnownIssue], categories: CategoryRules, digest: str
    ) -> None:
        self.issues: Mapping[int, KnownIssue] = MappingProxyType({i.number: i for i in issues})
        self.categories = categories
        self.digest = digest
        self.rules: tuple[Rule, ...] = tuple(r for i in issues for r in i.rules)
        self.matcher = Matcher(self.rules)

    def match(self, failure: Failure) -> Match | None:
        """Link a failure to at most one known issue, naming the rule and any losing issues."""
        hit = self.matcher.match(failure)
        if hit is None:
            return None
        issue = self.issues[hit.rule.issue]
        return Match(
            issue=issue.number,
            rule=hit.rule.id,
            category=issue.category,
            ambiguous_with=hit.ambiguous_with,
        )

    def match_many(self, failures: Sequence[Failure]) -> list[Match | None]:
        """Match every failure of a run, in order."""
        return [self.match(f) for f in failures]

    def category(self, failure: Failure, match: Match | None) -> Category:
        """Categorise a failure: infrastructure by phase, pattern or known issue, else product."""
        return self.categories.category(failure, match)


def _parse_issue(name: str, data: dict[str, Any], p: Problems) -> KnownIssue | None:
    before = len(p.lines)
    stem = PurePath(name).stem
    check_issue_header(data, name, p)
    if len(p.lines) > before:
        # Rules are still checked so one run reports every problem of the file.
        parse_rules(data.get("rules"), stem=stem, issue=0, priority=0, p=p, field="rules")
        return None
    number: int = data["issue"]
    priority: int = data.get("priority", 0)
    rules = parse_rules(
        data["rules"], stem=stem, issue=number, priority=priority, p=p, field="rules"
    )
    comments = parse_comments(data.get("comments", {}), p)
    if len(p.lines) > before:
        return None
    return KnownIssue(
        number=number,
        title=data["title"].strip(),
        category=Category(data["category"]),
        rules=tuple(rules),
        comment_policy=MappingProxyType(comments),
        source=name,
        priority=priority,
    )


def _digest(files: Mapping[str, str]) -> str:
    sha = hashlib.sha256()
    for name in sorted(files):
        sha.update(f"{name}\0{files[name]}\0".encode())
    return sha.hexdigest()[:16]


def parse_knowledge(files: Mapping[str, str]) -> KnowledgeBase:
    """Build a knowledge base from file name -> TOML text; "categories.toml" holds the patterns."""
    problems: list[str] = []
    issues: list[KnownIssue] = []
    categories = CategoryRules()
    seen: dict[int, str] = {}
    for name in sorted(files):
        p = Problems(name)
        data = read_toml(files[name], p)
        if data is not None and PurePath(name).name == CATEGORIES_FILE:
            phases, patterns = parse_categories(data, p)
            categories = CategoryRules(phases=phases, patterns=tuple(patterns))
        elif data is not None:
            issue = _parse_issue(name, data, p)
            if issue is not None and issue.number in seen:
                p.add(f"duplicate issue number, also in {seen[issue.number]}", None, "issue")
            elif issue is not None:
                seen[issue.number] = name
                issues.append(issue)
        problems.extend(p.lines)
    if problems:
        raise KnowledgeError("invalid_knowledge", "\n".join(problems))
    return KnowledgeBase(issues, categories, _digest(files))


def _read(path: Path, label: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError("invalid_knowledge", f"{label}: cannot read: {exc}") from exc


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load DIR/categories.toml and DIR/issues/*.toml; KnowledgeError lists every problem."""
    if not directory.is_dir():
        raise KnowledgeError("invalid_knowledge", f"{directory}: not a directory")
    categories = directory / CATEGORIES_FILE
    if not categories.is_file():
        raise KnowledgeError("invalid_knowledge", f"{categories}: missing")
    files = {CATEGORIES_FILE: _read(categories, CATEGORIES_FILE)}
    issues = directory / ISSUES_DIR
    for path in sorted(issues.iterdir() if issues.is_dir() else ()):
        label = f"{ISSUES_DIR}/{path.name}"
        if path.suffix != ".toml" or not path.is_file():
            # A misnamed file would otherwise be skipped without a word.
            raise KnowledgeError("invalid_knowledge", f"{label}: not a .toml file")
        files[label] = _read(path, label)
    return parse_knowledge(files)
