"""The tracking issue's task list: what counts as an item, what an edit changed, hostile bodies."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.criteria import Criterion, Status, WeekFacts, evaluate
from bot.core.tasklist import (
    BEFORE_TRACKING,
    ISSUE_READ,
    MAX_ITEM,
    TaskCheck,
    TaskItem,
    changes,
    check_at,
    states,
    task_items,
)

# The SUCCESS METRICS of the #623 remediation plan, as its issue body holds them.
PLAN = """## 📊 **SUCCESS METRICS**

### **Technical Success**:
- [ ] `test_concurrent_users_different_agents` executes without fixture errors
- [ ] All staging E2E tests have consistent fixture availability
- [ ] Staging test suite integrated into CI/CD pipeline

### **Business Success**:
- [ ] Multi-user concurrent scenarios validated in staging
- [ ] $500K+ ARR chat functionality confirmed operational
- [ ] Enterprise deployment confidence restored

### **Long-term Success**:
- [ ] Zero staging test infrastructure regressions for 30 days
- [ ] Documentation updated for SSOT fixture patterns
- [ ] Monitoring alerts for staging test health implemented
"""
PHRASES = {
    "docs": "documentation updated",
    "alerts": "monitoring alerts",
    "confidence": "deployment confidence",
}
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _check(body: str, phrase: str) -> str:
    return body.replace(f"- [ ] {phrase}", f"- [x] {phrase}")


def test_the_plans_task_list_has_nine_items_none_checked() -> None:
    items = task_items(PLAN)
    assert len(items) == 9
    assert not any(i.checked for i in items)
    assert items[-1] == TaskItem("Monitoring alerts for staging test health implemented", False)
    found = states(PLAN, PHRASES)
    assert {cid: item.text.split()[0] for cid, item in found.items()} == {
        "docs": "Documentation",
        "alerts": "Monitoring",
        "confidence": "Enterprise",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("* [x] a\n+ [X] b\n- [ ] c\n1. [x] d\n2) [ ] e", [("a", True), ("b", True), ("c", False),
                                                       ("d", True), ("e", False)]),
        ("- [x] top\n  - [ ] nested\n    - [x] deeper", [("top", True), ("nested", False),
                                                       ("deeper", True)]),
        ("- [x] loose\n\n  continued\n\n- [ ] next", [("loose", True), ("next", False)]),
        ("```\n- [x] in a fence\n```\n- [ ] after", [("after", False)]),
        ("~~~~md\n- [x] a\n~~~\n- [x] still fenced\n~~~~\n- [x] out", [("out", True)]),
        ("text\n\n    - [x] indented code\n- [ ] real", [("real", False)]),
        ("<!--\n- [x] hidden\n-->\n- [x] shown", [("shown", True)]),
        ("<!-- - [x] one-line comment -->\n- [ ] shown", [("shown", False)]),
        ("> - [x] quoted\n- [ ] shown", [("shown", False)]),
        ("-[x] no space\n- [x]no space\n- [y] other\n- [x]", [("", True)]),
        ("- [x]\tmonitoring alerts", [("monitoring alerts", True)]),
        ("- [x] a\r\n- [ ] b\r\n", [("a", True), ("b", False)]),
    ],
    ids=[
        "markers", "nested", "loose", "fence", "long-fence", "indented-code", "comment",
        "inline-comment", "quote", "not-items", "tab", "crlf",
    ],
)  # fmt: skip
def test_what_counts_as_a_task_item(body: str, expected: list[tuple[str, bool]]) -> None:
    assert [(i.text, i.checked) for i in task_items(body)] == expected


def test_a_phrase_matches_the_first_item_ignoring_case() -> None:
    body = "- [ ] MONITORING ALERTS for health\n- [x] monitoring alerts again"
    assert states(body, {"alerts": "Monitoring Alerts"})["alerts"].checked is False
    assert states("- [x] nothing here", {"alerts": "monitoring alerts"}) == {}


def test_an_item_text_is_cut() -> None:
    (item,) = task_items("- [x] " + "monitoring alerts " * 100)
    assert len(item.text) == MAX_ITEM


def test_an_edit_credits_the_editor_only_for_what_it_changed() -> None:
    stored = dict.fromkeys(PHRASES, False)
    new = _check(PLAN, "Monitoring alerts")
    (change,) = changes(PLAN, new, PHRASES, stored)
    assert (change.criterion, change.checked, change.seen_in_edit) == ("alerts", True, True)
    # The old body already had it checked: an edit before this one was missed.
    (missed,) = changes(new, new, PHRASES, stored)
    assert (missed.criterion, missed.checked, missed.seen_in_edit) == ("alerts", True, False)
    # Nothing differs from what is stored: nothing to record.
    assert changes(PLAN, new, PHRASES, {**stored, "alerts": True}) == []


def test_a_removed_item_counts_as_unchecked_and_unknown_items_are_skipped() -> None:
    checked = _check(PLAN, "Documentation updated")
    removed = "\n".join(line for line in checked.splitlines() if "Documentation" not in line)
    (change,) = changes(checked, removed, {"docs": "documentation updated"}, {"docs": True})
    assert (change.checked, change.seen_in_edit, change.item) == (
        False,
        True,
        "Documentation updated for SSOT fixture patterns",
    )
    assert changes(None, "no list", {"docs": "documentation updated"}, {}) == []


def test_check_at_takes_the_newest_before_the_instant_and_the_later_stored_of_a_tie() -> None:
    first = TaskCheck("alerts", True, "alice", T0)
    tie = TaskCheck("alerts", False, "bob", T0)
    later = TaskCheck("alerts", True, "bob", T0 + timedelta(days=1))
    history = [later, first, tie]
    assert check_at(history, T0) is None
    assert check_at(history, T0 + timedelta(seconds=1)) == tie
    assert check_at(history, T0 + timedelta(days=2)) == later


def _facts(tasks: dict[str, TaskCheck]) -> WeekFacts:
    return WeekFacts(
        suite="staging", first_day=T0.date(), last_day=T0.date(), runs_per_day={},
        failures=(), failed_runs_by_nodeid={}, tests=(), known_this_week={},
        known_last_week={}, objective=None, tasks=tasks,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("check", "status", "evidence"),
    [
        (None, Status.NO_DATA, "no task item containing 'monitoring alerts' seen"),
        (TaskCheck("alerts", True, "alice", T0), Status.MET, "checked by @alice on 2026-11-23"),
        (TaskCheck("alerts", False, "bob", T0), Status.NOT_MET, "unchecked by @bob on 2026-11-23"),
        (TaskCheck("alerts", True, None, T0, source=BEFORE_TRACKING), Status.MET,
         "checked before tracking began"),
        (TaskCheck("alerts", True, None, T0, source=ISSUE_READ), Status.MET,
         "checked, by whom unknown (the edit was not seen), first seen on 2026-11-23"),
        (TaskCheck("alerts", False, None, T0, source=BEFORE_TRACKING), Status.NOT_MET,
         "not checked yet"),
    ],
    ids=["none", "checked", "unchecked", "before-tracking", "missed", "never-checked"],
)  # fmt: skip
def test_a_task_verdict_says_who_and_when(
    check: TaskCheck | None, status: Status, evidence: str
) -> None:
    criterion = Criterion("alerts", "Monitoring alerts", "task", task="monitoring alerts")
    (verdict,) = evaluate([criterion], _facts({} if check is None else {"alerts": check}))
    assert verdict.status is status
    assert verdict.evidence.startswith(evidence)
    assert verdict.check == check  # no runs needed: a person's check is the evidence


# --- properties over hostile bodies -----------------------------------------------------------

_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=_BREAKS),
    max_size=40,
)
_LINE = st.one_of(
    _TEXT,
    st.builds(lambda m, t: f"- [{m}] {t}", st.sampled_from(" xX"), _TEXT),
    st.builds(lambda n, t: " " * n + f"* [x] {t}", st.integers(0, 12), _TEXT),
    st.sampled_from(["```", "~~~", "<!--", "-->", "> - [x] q", "", "    code", "1. [ ] n"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE, max_size=60))
def test_any_body_parses_and_fenced_items_never_count(lines: list[str]) -> None:
    body = "\n".join(lines)
    items = task_items(body)
    assert len(items) <= len(lines)
    assert all(len(i.text) <= MAX_ITEM for i in items)
    # The same body inside a code fence (longer than any fence it holds) is all code.
    assert task_items("`" * 50 + "\n" + body + "\n" + "`" * 50) == []
    # Appending a closed fenced block full of items adds none, unless the body left a fence or
    # a comment open (then it swallows what follows, as Markdown does).
    if not any(mark in body for mark in ("```", "~~~", "<!--")):
        fenced = "\n".join(f"- [x] {line}" for line in lines)
        assert task_items(f"{body}\n{'~' * 50}\n{fenced}\n{'~' * 50}") == items


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(PHRASES.values())), min_size=1, max_size=6),
    st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_recording_the_changes_of_an_edit_leaves_nothing_to_record(
    phrases: list[str], marks: list[bool]
) -> None:
    body = "\n".join(f"- [{'x' if m else ' '}] {p}" for p, m in zip(phrases, marks, strict=False))
    stored: dict[str, bool] = {}
    for change in changes(None, body, PHRASES, stored):
        stored[change.criterion] = change.checked
    assert changes(None, body, PHRASES, stored) == []
    # The first item of each phrase decides.
    for cid, phrase in PHRASES.items():
        if phrase in phrases:
            assert stored[cid] is marks[phrases.index(phrase)]


def test_a_body_of_github_s_largest_size_is_one_linear_pass() -> None:
    # 65,536 characters of the shapes that make parsers backtrack: long runs of spaces and
    # dashes, unclosed brackets, deep nesting. The result is still counted exactly.
    hostile = ("- " + " " * 200 + "[" + "\n") * 100 + ("  " * 30 + "- [x] deep\n") * 200
    body = (hostile * 4)[:65_536]
    items = task_items(body)
    assert 0 < len(items) <= body.count("- [x] deep")
    assert all(i == TaskItem("deep", True) for i in items)


@pytest.mark.parametrize(
    "unit",
    ["- " + " " * 60 + "[", " " * 40 + "1." + " " * 40 + "[x", "-" * 80, "```x\n- [x] a\n```"],
    ids=["spaces-then-bracket", "numbered", "dashes", "fences"],
)
def test_parsing_time_grows_linearly_with_the_body(unit: str) -> None:
    # Against a baseline measured here: eight times the body takes about eight times as long
    # (memory effects push it a little higher); quadratic work would take 64 times. One long
    # line and many short lines both; each timing repeats the parse until it lasts some 10 ms,
    # the best of three, so that it is not noise.
    def timed(body: str, repeat: int) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeat):
                task_items(body)
            best = min(best, time.perf_counter() - start)
        return best

    for joiner in ("\n", ""):
        small = joiner.join([unit] * (2**16 // (len(unit) + 1)))
        big = joiner.join([small] * 8)
        repeat = max(1, int(0.01 / max(timed(small, 1), 1e-6)))
        ratio = timed(big, repeat) / timed(small, repeat)
        assert ratio < 32, (joiner, ratio)
