"""Hostile failure text: NUL in reports, secrets and mentions in Markdown, bounded weeks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clusters import ClusterSummary, describe
from bot.core.comment_policy import PolicyConfig, plan_new_issue
from bot.core.criteria import WeekFacts
from bot.core.errors import TriageError
from bot.core.intents import CreateIssue
from bot.core.model import ReportFormat, TestRun
from bot.core.objective import ObjectiveInputs, compute
from bot.core.redact import redact
from bot.core.render_comments import RunRef, is_http_url, run_row
from bot.core.reports import read_report_bytes
from bot.core.weekly import ClusterLine, IsoWeek, WeeklyReport, code, md, render_markdown
from tests.core.report_helpers import report_bytes

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

NUL_SUITE = """
def test_nul():
    raise ValueError("bad\\x00byte")
"""


def _strings(run: TestRun) -> list[str]:
    found = [t.nodeid for t in run.tests] + [k for t in run.tests for k in t.keywords]
    for f in run.failures:
        found += [f.nodeid, f.message, f.text, f.exception or "", *f.chain, *f.keywords]
    return found


@pytest.mark.parametrize("fmt", [ReportFormat.JSON_REPORT, ReportFormat.REPORT_LOG])
def test_readers_replace_nul_everywhere(pytester: pytest.Pytester, fmt: ReportFormat) -> None:
    data = report_bytes(pytester, NUL_SUITE)[fmt]
    assert b"\\u0000" in data  # the real report carries the NUL of the message
    # A NUL in the node id too (so in keywords and texts, which name the test).
    data = data.replace(b"test_nul", b"test_\\u0000nul")
    run = read_report_bytes(data)
    strings = _strings(run)
    assert not [s for s in strings if "\x00" in s]
    (failure,) = run.failures
    assert failure.nodeid == "test_suite.py::test_\ufffdnul"
    assert failure.message == "ValueError: bad\ufffdbyte"
    assert failure.exception == "ValueError"
    assert "test_\ufffdnul" in {k for t in run.tests for k in t.keywords}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("connect https://bob:hunter2@db.example:5432/x", "connect https://***@db.example:5432/x"),
        ("clone https://ghp_abc123@github.com/a/b", "clone https://***@github.com/a/b"),
        ("token ghp_AbC123xyz in use", "token *** in use"),
        ("GH github_pat_11ABCD_efgh end", "GH *** end"),
        ("x gho_1 ghu_2 ghs_3 ghr_4", "x *** *** *** ***"),
        ("DB_PASSWORD=s3cr3t next", "DB_PASSWORD=*** next"),
        ("passwd: hunter2", "passwd: ***"),
        ("pwd=1;user=2", "pwd=***;user=2"),
        ('{"api_key": "abc"}', '{"api_key": "***"}'),
        ("apikey=xyz&x=1", "apikey=***&x=1"),
        ("secret=abc", "secret=***"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: ***"),
        ('curl -H "Bearer xyz=="', 'curl -H "Bearer ***"'),
        ("no secrets here: 1 == 2", "no secrets here: 1 == 2"),
        ("assert secret is None", "assert secret is None"),
        ("access_token=eyJhbGciOiJIUzI1NiJ9.x", "access_token=***"),
        ("SyntaxError: unexpected token: EOF", "SyntaxError: unexpected token: EOF"),
    ],
)
def test_redact(text: str, masked: str) -> None:
    assert redact(text) == masked
    assert redact(masked) == masked


def test_md_and_code_mask_secrets() -> None:
    assert "hunter2" not in md("password=hunter2 @bob")
    assert "@\u200dbob" in md("password=hunter2 @bob")
    assert code("t.py::test[https://u:p@h/x]") == "`t.py::test[https://***@h/x]`"


def _run(**changes: object) -> RunRef:
    run = RunRef(7, NOW, "https://ci.test/runs/7", "main", "0123456789abcdef", ("t.py::test_a",))
    return replace(run, **changes)  # type: ignore[arg-type]


def test_run_row_escapes_the_branch() -> None:
    row = run_row(_run(branch="@octocat|fix_*x*\n<b>"))
    assert "@octocat" not in row
    assert "@\u200doctocat" in row
    assert "\\|fix\\_\\*x\\* \\<b\\>" in row
    assert row.count(" | ") == 5  # still six cells


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "ftp://ci/1", "//ci/1", "https://", None]
)
def test_run_row_links_only_http_urls(url: str | None) -> None:
    assert "| #7 |" in run_row(_run(url=url))
    assert "](" not in run_row(_run(url=url))


def test_run_row_link_hides_credentials_and_stays_one_link() -> None:
    row = run_row(_run(url="https://user:tok@ci.test/r/(1)|x"))
    assert "[#7](https://***@ci.test/r/%281%29%7Cx)" in row
    assert "tok" not in row


def test_run_row_failing_tests_cannot_leave_their_code_span() -> None:
    row = run_row(_run(failing_tests=("t.py::test[`x` @y password=p]",)))
    assert "`t.py::test['x' @y password=***]`" in row


def test_is_http_url() -> None:
    assert is_http_url("https://ci.test/1")
    assert is_http_url("http://10.0.0.1:8080/x")
    assert not is_http_url("https://ci.test/a b")
    assert not is_http_url("http://[::1")  # malformed: urlsplit raises


def _candidate(message: str, nodeid: str = "t.py::test_b") -> ClusterSummary:
    return ClusterSummary(
        fingerprint="ab" * 8, suite="e2e", first_seen=NOW, last_seen=NOW, count=9, runs=5,
        exception="RuntimeError", example_nodeid=nodeid, example_message=message,
        suggested_rule="[[rules]]\n",
    )  # fmt: skip


def _new_issue(candidate: ClusterSummary) -> CreateIssue:
    (intent,) = plan_new_issue([candidate], config=PolicyConfig(file_new_issues=True))
    assert isinstance(intent, CreateIssue)
    return intent


def test_new_issue_message_cannot_break_its_fence() -> None:
    message = "RuntimeError: boom\n```\n@everyone look [x](javascript:1)\n`````\nend"
    issue = _new_issue(_candidate(message))
    lines = issue.body.splitlines()
    fences = [i for i, ln in enumerate(lines) if ln.startswith("``````")]
    assert len(fences) == 2  # a six-backtick fence, longer than the five in the message
    inside = "\n".join(lines[fences[0] + 1 : fences[1]])
    assert inside == message
    assert "@everyone" not in "\n".join(lines[: fences[0]] + lines[fences[1] + 1 :])


def test_new_issue_masks_secrets_and_mentions() -> None:
    issue = _new_issue(
        _candidate(
            "RuntimeError: cannot reach postgres://app:pw123@db/x as @alice",
            nodeid="t.py::test_`x`[token=abc123def456] @bob",
        )
    )
    assert "pw123" not in issue.body + issue.title
    assert "abc123def456" not in issue.body
    assert "Example: `t.py::test_'x'[token=***] @bob`" in issue.body
    assert issue.title == "RuntimeError: cannot reach postgres://***@\u200ddb/x as @\u200dalice"


def test_describe_drops_the_repeated_exception_name() -> None:
    assert describe("RuntimeError", "RuntimeError: could not connect") == (
        "RuntimeError: could not connect"
    )
    assert describe("redis.exceptions.ConnectionError", "ConnectionError: refused") == (
        "redis.exceptions.ConnectionError: refused"
    )
    assert describe("KeyError", "'user_id'") == "KeyError: 'user_id'"
    assert describe(None, "boom") == "boom"


def _weekly(clusters: list[ClusterLine]) -> str:
    week = IsoWeek(2026, 47)
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    days = [at - timedelta(days=d) for d in range(30)]
    obj = compute(ObjectiveInputs("s", at, 30, 0.9, at - timedelta(days=90), days, [], UTC))
    end = week.monday + timedelta(days=6)
    facts = WeekFacts("s", week.monday, end, {}, [], {}, [], {}, {}, obj)
    report = WeeklyReport("s", week, facts, [], obj, clusters, [], [], {})
    return render_markdown(report)


def test_weekly_cluster_line_says_the_exception_once_and_masks_secrets() -> None:
    line = ClusterLine(
        "f" * 16, 3, "RuntimeError", "t.py::test_db", "RuntimeError: could not connect to db:5432"
    )
    leaky = ClusterLine("e" * 16, 2, None, "t.py::test_x", "login failed password=pw9")
    text = _weekly([line, leaky])
    assert "| 3 | `t.py::test_db` | RuntimeError: could not connect to db:5432 |" in text
    assert "RuntimeError: RuntimeError" not in text
    assert "| 2 | `t.py::test_x` | login failed password=\\*\\*\\* |" in text


@pytest.mark.parametrize("text", ["0001-W01", "9999-W52", "1999-W52", "0000-W01"])
def test_iso_week_years_are_bounded(text: str) -> None:
    with pytest.raises(TriageError) as info:
        IsoWeek.parse(text)
    assert info.value.reason == "bad_week"
    assert "2000" in info.value.message


def test_iso_week_bounds_are_usable() -> None:
    for text in ("2000-W01", "9998-W52"):
        week = IsoWeek.parse(text)
        start, end = week.previous().bounds(UTC)
        assert start < end
