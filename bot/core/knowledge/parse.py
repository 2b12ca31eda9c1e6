"""Validate knowledge files into rules, collecting every problem with its file, rule and field."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import re2

from bot.core.knowledge.fields import (
    CATEGORIES,
    CATEGORY_FIELDS,
    COMMENT_FIELDS,
    ISSUE_FIELDS,
    ISSUE_REQUIRED,
    PHASES,
    POSITIVE,
    RULE_FIELDS,
    RULE_ID,
    TYPE_NAME,
)
from bot.core.matching import Rule, re2_options
from bot.core.model import Phase

_RULE_ID = re.compile(RULE_ID)
_TYPE_NAME = re.compile(TYPE_NAME)


class Problems:
    """Problems found in one file, each line naming the file, the rule and the field."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, what: str, rule: str | None = None, field: str | None = None) -> None:
        where = [self.source]
        if rule is not None:
            where.append(f"rule {rule!r}")
        if field is not None:
            where.append(f"field {field!r}")
        self.lines.append(f"{': '.join(where)}: {what}")


def read_toml(text: str, problems: Problems) -> dict[str, Any] | None:
    """Parse TOML text, noting a syntax error as a problem."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add(f"invalid TOML: {exc}")
        return None


def _unknown(
    table: Mapping[str, Any], known: Mapping[str, object], p: Problems, rule: str | None
) -> None:
    for key in table:
        if key not in known:
            p.add(f"unknown key (allowed: {', '.join(known)})", rule, key)


def _strings(value: Any) -> tuple[str, ...] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(i, str) and i for i in items):
        return None
    return tuple(items)


def _regex(value: Any, p: Problems, rule: str | None, key: str) -> str | None:
    if not isinstance(value, str) or not value:
        p.add("must be a non-empty string (an RE2 pattern)", rule, key)
        return None
    try:
        re2.compile(value, re2_options())
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        p.add(f"RE2 rejects the pattern {value!r}: {reason}", rule, key)
        return None
    return value


def _condition(kind: str, value: Any, p: Problems, rule: str | None, key: str) -> Any:
    """Check one condition value; return it normalised, or None after noting a problem."""
    if kind == "regex":
        return _regex(value, p, rule, key)
    items = _strings(value)
    bad: list[str] = []
    if items is None:
        p.add("must be a non-empty string or a list of non-empty strings", rule, key)
    elif kind == "phases":
        bad = [i for i in items if i not in PHASES]
        if bad:
            p.add(f"unknown phase {bad[0]!r} (allowed: {', '.join(PHASES)})", rule, key)
    elif kind == "types":
        bad = [i for i in items if not _TYPE_NAME.match(i)]
        if bad:
            p.add(f"{bad[0]!r} is not an exception type name", rule, key)
    if items is None or bad:
        return None
    return tuple(Phase(i) for i in items) if kind == "phases" else items


def parse_rule(
    raw: Any, index: int, *, stem: str, issue: int, default_priority: int, p: Problems
) -> Rule | None:
    """Validate one [[rules]] table into a Rule."""
    if not isinstance(raw, dict):
        p.add(f"rules[{index}] must be a table", None, "rules")
        return None
    rule_id = raw.get("id")
    label = rule_id if isinstance(rule_id, str) else f"#{index + 1}"
    before = len(p.lines)
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        p.add("required: lower case letters, digits, - and _", label, "id")
    _unknown(raw, RULE_FIELDS, p, label)
    priority = raw.get("priority", default_priority)
    if not _is_int(priority):
        p.add("must be an integer", label, "priority")
    if "note" in raw and not isinstance(raw["note"], str):
        p.add("must be a string", label, "note")
    values: dict[str, Any] = {}
    for key, (kind, _doc) in RULE_FIELDS.items():
        if key in raw and key not in ("id", "priority", "note"):
            values[key] = _condition(kind, raw[key], p, label, key)
    if not any(k in raw for k in POSITIVE):
        p.add(f"a rule needs at least one of {', '.join(POSITIVE)}", label)
    if len(p.lines) > before:
        return None
    return Rule(id=f"{stem}#{rule_id}", issue=issue, priority=priority, **values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_rules(
    raw: Any, *, stem: str, issue: int, priority: int, p: Problems, field: str
) -> list[Rule]:
    """Validate an array of rule tables, rejecting duplicate ids."""
    if not isinstance(raw, list) or not raw:
        p.add(f"needs at least one [[{field}]] table", None, field)
        return []
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        rule = parse_rule(item, index, stem=stem, issue=issue, default_priority=priority, p=p)
        if rule is None:
            continue
        if rule.id in seen:
            p.add("duplicate rule id", rule.id.partition("#")[2], "id")
            continue
        seen.add(rule.id)
        rules.append(rule)
    return rules


def parse_comments(raw: Any, p: Problems) -> dict[str, object]:
    """Validate the [comments] overrides table."""
    if not isinstance(raw, dict):
        p.add("must be a table", None, "comments")
        return {}
    _unknown(raw, COMMENT_FIELDS, p, None)
    for key, value in raw.items():
        kind = COMMENT_FIELDS.get(key, ("", ""))[0]
        if kind == "bool" and not isinstance(value, bool):
            p.add("must be true or false", None, f"comments.{key}")
        elif kind == "count" and not (_is_int(value) and int(value) >= 0):
            p.add("must be an integer >= 0", None, f"comments.{key}")
    return {k: v for k, v in raw.items() if k in COMMENT_FIELDS}


def check_issue_header(data: Mapping[str, Any], source: str, p: Problems) -> None:
    """Check the issue's top-level keys other than rules and comments."""
    _unknown(data, ISSUE_FIELDS, p, None)
    for key in ISSUE_REQUIRED:
        if key not in data:
            p.add("required", None, key)
    number: Any = data.get("issue")
    if "issue" in data and not (_is_int(number) and number > 0):
        p.add("must be a positive integer", None, "issue")
    elif _is_int(number) and not PurePath(source).name.startswith(f"{number}-"):
        p.add(f"the file name must start with '{number}-'", None, "issue")
    if "title" in data and not (isinstance(data["title"], str) and data["title"].strip()):
        p.add("must be a non-empty string", None, "title")
    if "category" in data and data["category"] not in CATEGORIES:
        p.add(f"must be one of {', '.join(CATEGORIES)}", None, "category")
    if "priority" in data and not _is_int(data["priority"]):
        p.add("must be an integer", None, "priority")
    if "note" in data and not isinstance(data["note"], str):
        p.add("must be a string", None, "note")


def parse_categories(data: Mapping[str, Any], p: Problems) -> tuple[tuple[Phase, ...], list[Rule]]:
    """Validate categories.toml into the infrastructure phases and patterns."""
    _unknown(data, CATEGORY_FIELDS, p, None)
    phases: tuple[Phase, ...] = (Phase.COLLECT, Phase.SETUP, Phase.TEARDOWN, Phase.CRASH)
    if "infrastructure_phases" in data:
        raw = data["infrastructure_phases"]
        phases = _condition("phases", raw, p, None, "infrastructure_phases") or ()
    stem = PurePath(p.source).stem
    patterns = parse_rules(
        data.get("patterns"), stem=stem, issue=0, priority=0, p=p, field="patterns"
    )
    return phases, patterns
