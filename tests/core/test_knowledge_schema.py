"""knowledge/schema.json is generated from the loader's field tables and agrees with the loader."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.core.errors import KnowledgeError
from bot.core.knowledge import parse_knowledge
from bot.core.knowledge.schema import json_schema

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
SCHEMA = KNOWLEDGE / "schema.json"


def test_schema_file_is_the_generated_schema() -> None:
    # Regenerate with: python -c "from bot.core.knowledge.schema import *; import json;
    # print(json.dumps(json_schema(), indent=2))" > knowledge/schema.json
    assert json.loads(SCHEMA.read_text()) == json_schema()
    jsonschema.Draft202012Validator.check_schema(json_schema())


def _validator(definition: str | None = None) -> jsonschema.Draft202012Validator:
    schema: dict[str, Any] = json_schema()
    if definition:
        schema = {**schema, "$ref": f"#/$defs/{definition}"}
        for key in ("required", "properties", "additionalProperties", "type"):
            schema.pop(key)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    "path", sorted((KNOWLEDGE / "issues").glob("*.toml")), ids=lambda p: p.name
)
def test_every_shipped_issue_file_matches_the_schema(path: Path) -> None:
    _validator().validate(tomllib.loads(path.read_text()))


def test_categories_file_matches_the_schema() -> None:
    _validator("categories_file").validate(
        tomllib.loads((KNOWLEDGE / "categories.toml").read_text())
    )


RULE = "[[rules]]\nid = 'a'\n"
HEAD = "issue = 5\ntitle = 't'\ncategory = 'product'\n"
BAD = [
    HEAD + "extra = 1\n" + RULE + "message = 'm'",
    HEAD + RULE + "phase = 'call'",
    HEAD + RULE + "message = ''",
    HEAD + RULE + "message = 'm'\nexception = 'a b'",
    HEAD + RULE + "message = 'm'\nphase = ['lunch']",
    HEAD + RULE + "message = 'm'\nnodeid = []",
    HEAD + "rules = []",
    HEAD.replace("product", "other") + RULE + "message = 'm'",
    HEAD.replace("5", "0") + RULE + "message = 'm'",
    HEAD + "[comments]\nquiet_days = -2\n" + RULE + "message = 'm'",
    HEAD + "[comments]\nloud = true\n" + RULE + "message = 'm'",
    "title = 't'\ncategory = 'product'\n" + RULE + "message = 'm'",
]


@pytest.mark.parametrize("text", BAD)
def test_loader_and_schema_reject_the_same_files(text: str) -> None:
    errors = list(_validator().iter_errors(tomllib.loads(text)))
    assert errors
    with pytest.raises(KnowledgeError):
        parse_knowledge({"5-x.toml": text})


def test_loader_and_schema_accept_a_full_file() -> None:
    text = (
        HEAD
        + "priority = 1\nnote = 'n'\n[comments]\nquiet_days = 2\n"
        + RULE
        + (
            "message = 'm'\nphase = ['call', '???']\nexception = 'a.B'\nnot_text = 'x'\n"
            "nodeid = 'tests/*'\nkeyword = ['k']\npriority = 3\nnote = 'x'"
        )
    )
    _validator().validate(tomllib.loads(text))
    assert parse_knowledge({"5-x.toml": text}).issues[5].rules[0].priority == 3
