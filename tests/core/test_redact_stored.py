"""Masking before storing changes only credentials: shipped rules and fingerprints hold."""

from __future__ import annotations

import pytest

from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.model import Failure, Outcome, Phase, ReportFormat, TestResult, TestRun
from bot.core.redact import redact, redact_failure, redact_run
from bot.core.signature import fingerprint
from tests.core.test_knowledge_shipped import KNOWLEDGE, NEGATIVE, POSITIVE, make


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


CASES = [(p[0], p[1]) for p in POSITIVE] + list(NEGATIVE) + [
    ("bearer-words", make("httpx.HTTPStatusError", "401 Unauthorized: invalid bearer token")),
]  # fmt: skip


@pytest.mark.parametrize("failure", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_masking_keeps_matches_and_fingerprints(kb: KnowledgeBase, failure: Failure) -> None:
    masked = redact_failure(failure)
    before, after = kb.match(failure), kb.match(masked)
    assert (before and before.issue) == (after and after.issue)
    assert fingerprint(masked) == fingerprint(failure)


def test_a_failure_with_credentials_is_masked_everywhere() -> None:
    failure = Failure(
        nodeid="t.py::test_db[postgres://u:PASS@db/app]", phase=Phase.CALL,
        outcome=Outcome.FAILED, exception="OperationalError", chain=("OperationalError",),
        message="password=PASS refused", text="E   https://user:PASS@ci.example/x",
        keywords=frozenset({"test_db[postgres://u:PASS@db/app]"}),
    )  # fmt: skip
    flaky = TestResult("t.py::test_f[token=ghp_PASSPASSPASS]", Outcome.FLAKY,
                       keywords=frozenset({"test_f[token=ghp_PASSPASSPASS]"}))  # fmt: skip
    run = TestRun(
        format=ReportFormat.JSON_REPORT,
        tests=(TestResult(failure.nodeid, Outcome.FAILED), flaky),
        failures=(failure,),
    )
    masked = redact_run(run)
    texts = [masked.failures[0].nodeid, masked.failures[0].message, masked.failures[0].text]
    texts += [*masked.failures[0].keywords, *(t.nodeid for t in masked.tests)]
    texts += [k for t in masked.tests for k in t.keywords]
    assert [t for t in texts if "PASS" in t] == []
    assert masked.failures[0].nodeid == redact(failure.nodeid) == masked.tests[0].nodeid
