"""Loading the knowledge base: every problem is an error naming its file, rule and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import KnowledgeError
from bot.core.knowledge import KnowledgeBase, KnownIssue, Rule, load_knowledge, parse_knowledge
from bot.core.model import Category, Failure, Outcome, Phase

GOOD = """
issue = 42
title = "Thing broken"
category = "infrastructure"
priority = 2

[comments]
quiet_days = 3
daily_budget = 1
reopen_on_recurrence = true

[[rules]]
id = "one"
exception = ["KeyError", "builtins.ValueError"]
message = '''(?i)thing \\d+'''

[[rules]]
id = "two"
priority = 9
note = "narrow"
nodeid = "tests/*"
phase = ["setup", "???"]
keyword = "e2e"
text = "x"
not_nodeid = "tests/unit/*"
not_phase = "call"
not_exception = "OSError"
not_keyword = ["slow"]
not_message = "y"
not_text = "z"
"""
CATS = """
infrastructure_phases = ["collect"]
[[patterns]]
id = "imports"
exception = "ImportError"
"""


def errors(files: dict[str, str]) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        parse_knowledge(files)
    assert info.value.reason == "invalid_knowledge"
    return info.value.message.splitlines()


def test_a_good_file_loads_every_field() -> None:
    kb = parse_knowledge({"issues/42-thing.toml": GOOD, "categories.toml": CATS})
    issue = kb.issues[42]
    assert isinstance(issue, KnownIssue)
    assert (issue.title, issue.category, issue.source) == (
        "Thing broken",
        Category.INFRASTRUCTURE,
        "issues/42-thing.toml",
    )
    assert dict(issue.comment_policy) == {
        "quiet_days": 3,
        "daily_budget": 1,
        "reopen_on_recurrence": True,
    }
    one, two = issue.rules
    assert one == Rule(
        id="42-thing#one",
        issue=42,
        priority=2,
        exception=("KeyError", "builtins.ValueError"),
        message="(?i)thing \\d+",
    )
    assert two.priority == 9
    assert two.phase == (Phase.SETUP, Phase.CRASH)
    assert two.not_phase == (Phase.CALL,)
    assert (two.nodeid, two.keyword, two.not_keyword) == (("tests/*",), ("e2e",), ("slow",))
    assert kb.categories.phases == (Phase.COLLECT,)
    assert [r.id for r in kb.categories.patterns] == ["categories#imports"]


def test_empty_comment_policy_and_default_priority() -> None:
    text = 'issue = 7\ntitle = "t"\ncategory = "product"\n[[rules]]\nid = "a"\nmessage = "m"\n'
    issue = parse_knowledge({"7-x.toml": text}).issues[7]
    assert dict(issue.comment_policy) == {}
    assert issue.rules[0].priority == 0


def _issue(body: str, number: int = 42) -> str:
    return f'issue = {number}\ntitle = "t"\ncategory = "product"\n{body}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("issue = [", "42-x.toml: invalid TOML"),
        (
            _issue('colour = "red"\n[[rules]]\nid="a"\nmessage="m"'),
            "42-x.toml: field 'colour': unknown key",
        ),
        (
            'title = "t"\ncategory = "product"\n[[rules]]\nid="a"\nmessage="m"',
            "field 'issue': required",
        ),
        (_issue("", number=0), "field 'issue': must be a positive integer"),
        (_issue("[[rules]]\nid='a'\nmessage='m'", number=43), "must start with '43-'"),
        (
            'issue = 42\ntitle = ""\ncategory = "x"\npriority = "hi"\nnote = 1\nrules = []',
            "field 'title': must be a non-empty string",
        ),
        (
            'issue = 42\ntitle = "t"\ncategory = "x"\n[[rules]]\nid="a"\nmessage="m"',
            "field 'category': must be one of infrastructure, product",
        ),
        (
            _issue("priority = true\n[[rules]]\nid='a'\nmessage='m'"),
            "field 'priority': must be an integer",
        ),
        (_issue("rules = []"), "field 'rules': needs at least one [[rules]] table"),
        (_issue("rules = [1]"), "field 'rules': rules[0] must be a table"),
        (_issue("[[rules]]\nmessage='m'"), "rule '#1': field 'id': required"),
        (_issue("[[rules]]\nid='Bad Id'\nmessage='m'"), "rule 'Bad Id': field 'id'"),
        (_issue("[[rules]]\nid='a'\nmesage='m'"), "rule 'a': field 'mesage': unknown key"),
        (_issue("[[rules]]\nid='a'\nphase='call'"), "rule 'a': a rule needs at least one of"),
        (
            _issue("[[rules]]\nid='a'\nmessage='(a)\\1'"),
            "rule 'a': field 'message': RE2 rejects the pattern",
        ),
        (
            _issue("[[rules]]\nid='a'\ntext='(?=x)'"),
            "rule 'a': field 'text': RE2 rejects the pattern '(?=x)': invalid perl operator",
        ),
        (
            _issue("[[rules]]\nid='a'\nnot_message='(?<!x)y'"),
            "rule 'a': field 'not_message': RE2 rejects",
        ),
        (
            _issue("[[rules]]\nid='a'\nmessage=''"),
            "rule 'a': field 'message': must be a non-empty string",
        ),
        (
            _issue("[[rules]]\nid='a'\nmessage=3"),
            "rule 'a': field 'message': must be a non-empty string",
        ),
        (
            _issue("[[rules]]\nid='a'\nphase='run'\nmessage='m'"),
            "rule 'a': field 'phase': unknown phase 'run'",
        ),
        (
            _issue("[[rules]]\nid='a'\nexception='not a type'"),
            "rule 'a': field 'exception': 'not a type' is not",
        ),
        (
            _issue("[[rules]]\nid='a'\nnodeid=[]"),
            "rule 'a': field 'nodeid': must be a non-empty string or a list",
        ),
        (
            _issue("[[rules]]\nid='a'\nkeyword=['', 'x']"),
            "rule 'a': field 'keyword': must be a non-empty",
        ),
        (
            _issue("[[rules]]\nid='a'\nmessage='m'\npriority=1.5"),
            "rule 'a': field 'priority': must be an integer",
        ),
        (
            _issue("[[rules]]\nid='a'\nmessage='m'\nnote=2"),
            "rule 'a': field 'note': must be a string",
        ),
        (
            _issue("[[rules]]\nid='a'\nmessage='m'\n[[rules]]\nid='a'\ntext='t'"),
            "rule 'a': field 'id': duplicate rule id",
        ),
        (
            _issue("comments = 3\n[[rules]]\nid='a'\nmessage='m'"),
            "field 'comments': must be a table",
        ),
        (
            _issue("[comments]\nquiet_days = -1\n[[rules]]\nid='a'\nmessage='m'"),
            "field 'comments.quiet_days': must be an integer >= 0",
        ),
        (
            _issue("[comments]\nreopen_on_recurrence = 1\n[[rules]]\nid='a'\nmessage='m'"),
            "field 'comments.reopen_on_recurrence': must be true or false",
        ),
        (
            _issue("[comments]\nloud = 1\n[[rules]]\nid='a'\nmessage='m'"),
            "field 'loud': unknown key",
        ),
    ],
)
def test_each_problem_names_file_rule_and_field(text: str, expected: str) -> None:
    lines = errors({"42-x.toml": text})
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("42-x.toml: ") for line in lines)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    lines = errors(
        {"42-x.toml": 'issue = 42\ntitle = ""\ncategory = "x"\n[[rules]]\nid="a"\nmessage="(?=a)"'}
    )
    assert len(lines) == 3


def test_duplicate_issue_numbers_across_files() -> None:
    rules = "[[rules]]\nid='a'\nmessage='m'"
    lines = errors({"42-a.toml": _issue(rules), "42-b.toml": _issue(rules)})
    assert lines == ["42-b.toml: field 'issue': duplicate issue number, also in 42-a.toml"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "infrastructure_phases = ['lunch']\n[[patterns]]\nid='a'\nmessage='m'",
            "field 'infrastructure_phases': unknown phase",
        ),
        (
            "[[patterns]]\nid='a'\nmessage='(?=m)'",
            "categories.toml: rule 'a': field 'message': RE2 rejects",
        ),
        (
            "colour = 1\n[[patterns]]\nid='a'\nmessage='m'",
            "categories.toml: field 'colour': unknown key",
        ),
        ("", "field 'patterns': needs at least one [[patterns]] table"),
    ],
)
def test_category_file_problems(text: str, expected: str) -> None:
    lines = errors({"categories.toml": text})
    assert any(expected in line for line in lines), lines


def test_digest_changes_with_any_rule() -> None:
    first = parse_knowledge({"42-x.toml": GOOD})
    same = parse_knowledge({"42-x.toml": GOOD})
    changed = parse_knowledge({"42-x.toml": GOOD.replace("thing", "thang")})
    assert first.digest == same.digest != changed.digest
    assert len(first.digest) == 16


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def test_load_knowledge_reads_categories_and_issues(tmp_path: Path) -> None:
    kb = load_knowledge(_write(tmp_path, {"categories.toml": CATS, "issues/42-x.toml": GOOD}))
    assert isinstance(kb, KnowledgeBase)
    assert list(kb.issues) == [42]
    assert kb.issues[42].source == "issues/42-x.toml"
    assert kb.digest == parse_knowledge({"categories.toml": CATS, "issues/42-x.toml": GOOD}).digest


def test_load_knowledge_errors(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not a directory"):
        load_knowledge(tmp_path / "nope")
    with pytest.raises(KnowledgeError, match=r"categories\.toml: missing"):
        load_knowledge(tmp_path)
    _write(tmp_path, {"categories.toml": CATS})
    (tmp_path / "issues").mkdir()
    (tmp_path / "issues" / "42-x.toml").write_bytes(b"title = '\xff'")
    with pytest.raises(KnowledgeError, match=r"issues/42-x.toml: cannot read"):
        load_knowledge(tmp_path)
    (tmp_path / "issues" / "42-x.toml").write_text(GOOD)
    (tmp_path / "issues" / "43-y.tml").write_text(GOOD)
    with pytest.raises(KnowledgeError, match=r"issues/43-y.tml: not a \.toml file"):
        load_knowledge(tmp_path)


def test_load_knowledge_without_issues(tmp_path: Path) -> None:
    _write(tmp_path, {"categories.toml": CATS})
    assert dict(load_knowledge(tmp_path).issues) == {}


def test_shipped_knowledge_loads() -> None:
    kb = load_knowledge(Path(__file__).resolve().parents[2] / "knowledge")
    assert sorted(kb.issues) == [623, 1029, 1086, 1087, 1111]
    assert all(i.category is Category.INFRASTRUCTURE for i in kb.issues.values())


def test_knowledge_base_match_builds_a_match_with_the_category() -> None:
    other = _issue("[[rules]]\nid='b'\nmessage='thing'", number=43).replace("product", "product")
    kb = parse_knowledge({"42-x.toml": GOOD, "43-y.toml": other})
    failure = Failure(
        "tests/t.py::t", Phase.CALL, Outcome.FAILED, "KeyError", ("KeyError",), "thing 3", ""
    )
    match, none = kb.match_many(
        [failure, Failure("t", Phase.CALL, Outcome.FAILED, None, (), "", "")]
    )
    assert none is None
    assert match is not None
    assert (match.issue, match.rule, match.category, match.ambiguous_with) == (
        42,
        "42-x#one",
        Category.INFRASTRUCTURE,
        (43,),
    )
