"""The knowledge file format as data: every key, its kind and its meaning (loader and schema)."""

from __future__ import annotations

from typing import Final

from bot.core.model import Category, Phase

PHASES: Final = tuple(p.value for p in Phase)
CATEGORIES: Final = tuple(c.value for c in Category)
RULE_ID: Final = r"^[a-z0-9][a-z0-9_-]*$"
TYPE_NAME: Final = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"

# Condition kinds: "globs", "phases", "types", "strings" take a string or a list of strings
# (any one of them may match); "regex" takes one RE2 pattern.
CONDITIONS: Final[dict[str, tuple[str, str]]] = {
    "nodeid": ("globs", "node id glob(s), e.g. 'tests/e2e/*::test_login*'"),
    "phase": ("phases", "phase(s): collect, setup, call, teardown or ??? (xdist worker crash)"),
    "exception": (
        "types",
        "exception type(s) anywhere in the chain; a short name matches any module",
    ),
    "keyword": ("strings", "pytest keyword(s) or marker name(s) of the test"),
    "message": ("regex", "RE2 pattern searched in the one-line exception message"),
    "text": ("regex", "RE2 pattern searched in the full failure text (longrepr)"),
}
RULE_FIELDS: Final[dict[str, tuple[str, str]]] = {
    "id": ("rule-id", "rule id, unique in its file: lower case, digits, - and _"),
    "priority": ("int", "overrides the issue's priority for this rule"),
    "note": ("string", "free text for people"),
    **CONDITIONS,
    **{f"not_{k}": (kind, f"exclusion: {doc}") for k, (kind, doc) in CONDITIONS.items()},
}
COMMENT_FIELDS: Final[dict[str, tuple[str, str]]] = {
    "quiet_days": ("count", "days without a comment after one was posted"),
    "daily_budget": ("count", "comments per day on this issue at most"),
    "reopen_on_recurrence": ("bool", "reopen the issue when it was closed and recurs"),
}
ISSUE_FIELDS: Final[dict[str, tuple[str, str]]] = {
    "issue": ("issue-number", "GitHub issue number; the file name starts with it"),
    "title": ("string", "short title, as on GitHub"),
    "category": ("category", "infrastructure or product"),
    "priority": ("int", "higher wins when rules of two issues claim one failure (default 0)"),
    "note": ("string", "free text for people"),
    "comments": ("comments", "per-issue overrides of the comment policy"),
    "rules": ("rules", "one or more [[rules]]"),
}
ISSUE_REQUIRED: Final = ("issue", "title", "category", "rules")
CATEGORY_FIELDS: Final[dict[str, tuple[str, str]]] = {
    "infrastructure_phases": ("phases", "phases whose failures are always infrastructure"),
    "patterns": ("rules", "[[patterns]]: rules whose match makes a failure infrastructure"),
}
# At least one of these per rule: a phase or an exclusion alone would match far too much.
POSITIVE: Final = ("nodeid", "exception", "keyword", "message", "text")
