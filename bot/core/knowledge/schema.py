"""JSON Schema of the knowledge files, generated from the same field tables the loader uses."""

from __future__ import annotations

from typing import Any

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

_NONEMPTY = {"type": "string", "minLength": 1}


def _one_or_many(item: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1}]}


_KINDS: dict[str, dict[str, Any]] = {
    "globs": _one_or_many(_NONEMPTY),
    "strings": _one_or_many(_NONEMPTY),
    "phases": _one_or_many({"enum": list(PHASES)}),
    "types": _one_or_many({"type": "string", "pattern": TYPE_NAME}),
    "regex": _NONEMPTY,
    "rule-id": {"type": "string", "pattern": RULE_ID},
    "int": {"type": "integer"},
    "count": {"type": "integer", "minimum": 0},
    "bool": {"type": "boolean"},
    "string": {"type": "string"},
    "issue-number": {"type": "integer", "minimum": 1},
    "category": {"enum": list(CATEGORIES)},
    "comments": {"$ref": "#/$defs/comments"},
    "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}, "minItems": 1},
}


def _properties(fields: dict[str, tuple[str, str]]) -> dict[str, Any]:
    return {name: {**_KINDS[kind], "description": doc} for name, (kind, doc) in fields.items()}


def json_schema() -> dict[str, Any]:
    """Return the schema of an issue file; $defs.categories_file describes categories.toml."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "triage-bot known issue",
        "type": "object",
        "additionalProperties": False,
        "required": list(ISSUE_REQUIRED),
        "properties": _properties(ISSUE_FIELDS),
        "$defs": {
            "rule": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "anyOf": [{"required": [k]} for k in POSITIVE],
                "properties": _properties(RULE_FIELDS),
            },
            "comments": {
                "type": "object",
                "additionalProperties": False,
                "properties": _properties(COMMENT_FIELDS),
            },
            "categories_file": {
                "type": "object",
                "additionalProperties": False,
                "required": ["patterns"],
                "properties": _properties(CATEGORY_FIELDS),
            },
        },
    }
