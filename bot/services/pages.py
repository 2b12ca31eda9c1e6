"""Read models of the dashboard's pages: a run, a known issue, a test; every list bounded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Protocol

from bot.core.clusters import ClusterSummary
from bot.core.errors import TriageError
from bot.core.knowledge import KnowledgeBase
from bot.core.redact import redact
from bot.ports.store import FailureRecord, IssueStateRepository, RunRecord, TestState, UnitOfWork
from bot.services.queries import KnownIssueItem, known_issues

EXCERPT = 240  # characters of an error shown beside a failure
RUN_FAILURES = 2000  # failures listed on a run page
ISSUE_TESTS = 25
TEST_FAILURES = 30


class PageReads(Protocol):
    """The queries only the pages need (bot.store.pages.SqlPageReads fits)."""

    def issue_daily(self, *, issue: int, start: datetime, tz: tzinfo) -> dict[date, int]: ...

    def issue_tests(self, *, issue: int, limit: int) -> list[tuple[str, str, int, datetime]]: ...

    def sticky_comment(self, *, issue: int) -> int | None: ...

    def cluster(self, *, fingerprint: str) -> ClusterSummary | None: ...

    def filed_issue(self, *, fingerprint: str) -> int | None: ...

    def with_fingerprint(self, *, fingerprint: str, limit: int) -> list[FailureRecord]: ...

    def newest_failures(self, *, limit: int) -> list[FailureRecord]: ...

    def test_failures(self, *, suite: str, nodeid: str, limit: int) -> list[FailureRecord]: ...

    def test_states(self, *, suite: str, nodeid: str) -> list[tuple[str, TestState]]: ...


class PagesUow(UnitOfWork, Protocol):
    @property
    def pages(self) -> PageReads: ...


def excerpt(failure: FailureRecord) -> str:
    """Return a short, secret-masked excerpt of a failure's error."""
    text = failure.message.strip() or failure.text.strip()
    text = redact(" ".join(text.split()))
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def titles(kb: KnowledgeBase, issues: IssueStateRepository) -> dict[int, str]:
    """Map issue numbers to titles: the knowledge base's, else the one GitHub last told."""
    found = {s.number: s.title for s in issues.all()}
    found.update({n: i.title for n, i in kb.issues.items()})
    return found


@dataclass(frozen=True, slots=True)
class RunPageView:
    record: RunRecord
    failures: list[FailureRecord]
    more: int  # failures left off the page
    titles: dict[int, str]


def run_page(uow: PagesUow, kb: KnowledgeBase, *, run_id: int) -> RunPageView:
    """Gather a run and its failures; TriageError("not_found") when there is no such run."""
    record = uow.runs.get(run_id=run_id)
    if record is None:
        raise TriageError("not_found", f"no run {run_id}")
    failures = uow.failures.for_run(run_id=run_id)
    return RunPageView(
        record=record,
        failures=failures[:RUN_FAILURES],
        more=max(len(failures) - RUN_FAILURES, 0),
        titles=titles(kb, uow.issues),
    )


@dataclass(frozen=True, slots=True)
class IssuePageView:
    item: KnownIssueItem
    state_reason: str | None
    days: list[date]
    daily: list[int]
    tests: list[tuple[str, str, int, datetime]]
    sticky_comment: int | None


def issue_page(
    uow: PagesUow, kb: KnowledgeBase, *, number: int, now: datetime, days: int, tz: tzinfo
) -> IssuePageView:
    """Gather one known issue: state, rules with precision, daily occurrences, tests hit."""
    item = next((i for i in known_issues(uow, kb) if i.number == number), None)
    if item is None:
        raise TriageError("not_found", f"issue {number} is neither known nor seen")
    today = now.astimezone(tz).date()
    window = [today - timedelta(days=days - 1 - i) for i in range(days)]
    start = datetime.combine(window[0], datetime.min.time(), tzinfo=tz)
    daily = uow.pages.issue_daily(issue=number, start=start, tz=tz)
    state = next((s for s in uow.issues.all() if s.number == number), None)
    return IssuePageView(
        item=item,
        state_reason=state.state_reason if state else None,
        days=window,
        daily=[daily.get(d, 0) for d in window],
        tests=uow.pages.issue_tests(issue=number, limit=ISSUE_TESTS),
        sticky_comment=uow.pages.sticky_comment(issue=number),
    )


@dataclass(frozen=True, slots=True)
class Flakiness:
    runs: int
    flaky: int  # runs where the test passed on a rerun
    changes: int  # times the outcome flipped between passing and failing

    @classmethod
    def of(cls, history: str) -> Flakiness:
        passing = [c for c in history if c in "PFK"]
        flips = sum(1 for a, b in pairwise(passing) if (a == "F") != (b == "F"))
        return cls(runs=len(history), flaky=history.count("K"), changes=flips)


@dataclass(frozen=True, slots=True)
class TestPageView:
    __test__ = False

    suite: str
    nodeid: str
    states: list[tuple[str, TestState, Flakiness]]
    failures: list[FailureRecord]
    issues: list[tuple[int, str, int]]  # number, title, occurrences among `failures`


def test_page(uow: PagesUow, kb: KnowledgeBase, *, suite: str, nodeid: str) -> TestPageView:
    """Gather a test's recent results per environment, its failures and linked issues."""
    states = uow.pages.test_states(suite=suite, nodeid=nodeid)
    failures = uow.pages.test_failures(suite=suite, nodeid=nodeid, limit=TEST_FAILURES)
    if not states and not failures:
        raise TriageError("not_found", f"no test {nodeid!r} in suite {suite!r}")
    names = titles(kb, uow.issues)
    hits = Counter(f.known_issue for f in failures if f.known_issue is not None)
    return TestPageView(
        suite=suite,
        nodeid=nodeid,
        states=[(env, s, Flakiness.of(s.history)) for env, s in states],
        failures=failures,
        issues=[(n, names.get(n, ""), c) for n, c in hits.most_common()],
    )
