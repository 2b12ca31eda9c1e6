"""Hand-written fakes of the ports, shared by all tests; each is checked against its Protocol."""

from __future__ import annotations

# Each section is owned by one area; add fakes inside your own section only.

# --- runs, history and read models (store) -------------------------------------------------

# isort: off
from collections.abc import Collection as _StCollection, Iterator as _StIterator  # noqa: E402, RUF100
from collections.abc import Sequence as _StSequence  # noqa: E402, RUF100
from dataclasses import replace as _st_replace  # noqa: E402, RUF100
from datetime import datetime as _st_datetime  # noqa: E402, RUF100
import fnmatch as _st_fnmatch  # noqa: E402, RUF100
from bot.core.intents import Intent as _StIntent  # noqa: E402, RUF100
from bot.core.model import TestResult as _StTestResult  # noqa: E402, RUF100
from bot.ports.store import ClusterRecord as _ClusterRecord, FailureRecord as _FailureRecord  # noqa: E402, RUF100
from bot.ports.store import IssueState as _IssueState, IssueStats as _IssueStats  # noqa: E402, RUF100
from bot.ports.store import ManualLinkRecord as _ManualLinkRecord, NewRun as _NewRun  # noqa: E402, RUF100
from bot.ports.store import RuleStats as _RuleStats, RunRecord as _RunRecord  # noqa: E402, RUF100
from bot.ports.store import UnitOfWork as _UnitOfWork  # noqa: E402, RUF100
from bot.ports.store import ClusterRepository as _ClusterRepository  # noqa: E402, RUF100
from bot.ports.outbox import Outbox as _Outbox  # noqa: E402, RUF100
from bot.ports.store import FailureRepository as _FailureRepository, ReadModels as _ReadModels  # noqa: E402, RUF100
from bot.ports.store import IssueStateRepository as _IssueStateRepository  # noqa: E402, RUF100
from bot.ports.store import LinkRepository as _LinkRepository, RunRepository as _RunRepository  # noqa: E402, RUF100
from bot.ports.store import SuiteTestRepository as _SuiteTestRepository  # noqa: E402, RUF100
from bot.ports.store import JudgementChange as _JudgementChange, StoredFailure as _StoredFailure  # noqa: E402, RUF100
from bot.ports.store import JudgementRepository as _JudgementRepository  # noqa: E402, RUF100
from bot.ports.store import RunIdentity as _RunIdentity  # noqa: E402, RUF100
from bot.ports.store import RunIdentityRepository as _RunIdentityRepository  # noqa: E402, RUF100
# isort: on


class FakeStore:
    """In-memory tables behind FakeUnitOfWork; writes apply at once (no rollback)."""

    def __init__(self) -> None:
        self.runs: list[_RunRecord] = []
        self.failures: list[_FailureRecord] = []
        self.suite_tests: set[tuple[str, str, str]] = set()
        self.clusters: dict[str, _ClusterRecord] = {}
        self.issue_states: dict[int, _IssueState] = {}
        self.links: list[_ManualLinkRecord] = []
        self.wrong: dict[tuple[int, str], str | None] = {}
        self.intents: dict[str, _StIntent] = {}
        self.commits = 0
        self.judgement_changes: list[_JudgementChange] = []
        self.knowledge_digests: list[str] = []
        self.identities: list[tuple[str, str, _RunIdentity]] = []


class _FakeRuns:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def find(self, *, suite: str, environment: str, digest: str) -> _RunRecord | None:
        key = (suite, environment, digest)
        found = (
            r for r in self.s.runs if (r.run.suite, r.run.environment, r.run.report_digest) == key
        )
        return next(found, None)

    def add(self, *, run: _NewRun) -> int | None:
        if self.find(suite=run.suite, environment=run.environment, digest=run.report_digest):
            return None
        self.s.runs.append(_RunRecord(len(self.s.runs) + 1, run))
        return len(self.s.runs)

    def get(self, *, run_id: int) -> _RunRecord | None:
        return self.s.runs[run_id - 1] if 0 < run_id <= len(self.s.runs) else None

    def _newest(self, suite: str | None, environment: str | None = None) -> list[_RunRecord]:
        runs = [
            r
            for r in self.s.runs
            if suite in (None, r.run.suite) and environment in (None, r.run.environment)
        ]
        return sorted(runs, key=lambda r: (r.run.started_at, r.id), reverse=True)

    def previous(
        self, *, suite: str, environment: str, before: _st_datetime, limit: int
    ) -> list[int]:
        runs = [r for r in self._newest(suite, environment) if r.run.started_at < before]
        return [r.id for r in runs[:limit]]

    def page(self, *, suite: str | None, offset: int, limit: int) -> tuple[list[_RunRecord], int]:
        runs = self._newest(suite)
        return runs[offset : offset + limit], len(runs)


class _FakeFailures:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def add_many(self, *, rows: _StSequence[_FailureRecord]) -> None:
        self.s.failures.extend(rows)

    def outcomes(
        self, *, run_ids: _StSequence[int], nodeids: _StCollection[str]
    ) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = {i: {} for i in run_ids}
        for f in self.s.failures:
            if f.run_id in found and f.nodeid in nodeids:
                found[f.run_id][f.nodeid] = f.outcome
        return found

    def for_run(self, *, run_id: int) -> list[_FailureRecord]:
        return [f for f in self.s.failures if f.run_id == run_id]

    def count_matching(self, *, glob: str) -> int:
        return sum(
            f.outcome != "flaky" and _st_fnmatch.fnmatchcase(f.nodeid, glob)
            for f in self.s.failures
        )

    def replay(self, *, since: _st_datetime | None) -> _StIterator[_FailureRecord]:
        for f in list(self.s.failures):
            if f.outcome != "flaky" and (since is None or f.started_at >= since):
                yield f


class _FakeSuiteTests:
    __test__ = False

    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def record_run(
        self,
        *,
        suite: str,
        environment: str,
        tests: _StSequence[_StTestResult],
        run_id: int,
        at: _st_datetime,
    ) -> None:
        self.s.suite_tests.update((suite, environment, t.nodeid) for t in tests)


class _FakeClusters:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def record(self, *, hits: _StSequence[_ClusterRecord]) -> None:
        for h in hits:
            old = self.s.clusters.get(h.fingerprint)
            self.s.clusters[h.fingerprint] = (
                h
                if old is None
                else _st_replace(
                    old,
                    count=old.count + h.count,
                    runs=old.runs + h.runs,
                    first_seen=min(old.first_seen, h.first_seen),
                    last_seen=max(old.last_seen, h.last_seen),
                )
            )

    def top(self, *, offset: int, limit: int) -> tuple[list[_ClusterRecord], int]:
        ranked = sorted(self.s.clusters.values(), key=lambda c: (-c.count, c.fingerprint))
        return ranked[offset : offset + limit], len(ranked)


class _FakeIssueStates:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def all(self) -> list[_IssueState]:
        return [self.s.issue_states[n] for n in sorted(self.s.issue_states)]

    def set(self, *, state: _IssueState) -> None:
        old = self.s.issue_states.get(state.number)
        if old is None or old.updated_at <= state.updated_at:
            self.s.issue_states[state.number] = state


class _FakeLinks:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def links(self) -> list[_ManualLinkRecord]:
        return list(self.s.links)

    def add_link(
        self, *, issue: int, kind: str, pattern: str, created_by: str, at: _st_datetime
    ) -> bool:
        new = self.remove_link(kind=kind, pattern=pattern) is False
        ident = max((lk.id for lk in self.s.links), default=0) + 1
        self.s.links.append(_ManualLinkRecord(ident, issue, kind, pattern, created_by, at))
        return new

    def remove_link(self, *, kind: str, pattern: str) -> bool:
        kept = [lk for lk in self.s.links if (lk.kind, lk.pattern) != (kind, pattern)]
        removed = len(kept) != len(self.s.links)
        self.s.links = kept
        return removed

    def add_wrong_match(
        self,
        *,
        run_id: int,
        nodeid: str,
        issue: int | None,
        rule: str | None,
        reported_by: str,
        at: _st_datetime,
    ) -> bool:
        if (run_id, nodeid) in self.s.wrong:
            return False
        self.s.wrong[(run_id, nodeid)] = rule
        return True


class _FakeReadModels:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def issue_stats(self) -> list[_IssueStats]:
        by_issue: dict[int, list[_FailureRecord]] = {}
        for f in self.s.failures:
            if f.known_issue is not None:
                by_issue.setdefault(f.known_issue, []).append(f)
        return [
            _IssueStats(n, len(fs), len({f.run_id for f in fs}), max(f.started_at for f in fs))
            for n, fs in sorted(by_issue.items())
        ]

    def rule_stats(self) -> list[_RuleStats]:
        counts: dict[tuple[str, int], int] = {}
        for f in self.s.failures:
            if f.rule is not None and f.known_issue is not None:
                counts[(f.rule, f.known_issue)] = counts.get((f.rule, f.known_issue), 0) + 1
        wrong = list(self.s.wrong.values())
        return sorted(
            (_RuleStats(r, i, n, wrong.count(r)) for (r, i), n in counts.items()),
            key=lambda r: (r.issue, r.rule),
        )


class _FakeJudgements:
    """Failure ids are 1-based positions in the store's failure list."""

    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def _rows(self) -> list[_StoredFailure]:
        return [
            _StoredFailure(i + 1, f) for i, f in enumerate(self.s.failures) if f.outcome != "flaky"
        ]

    def scan(
        self,
        *,
        fingerprint: str | None = None,
        rule: str | None = None,
        after_id: int = 0,
        limit: int = 2000,
    ) -> list[_StoredFailure]:
        rows = [
            r
            for r in self._rows()
            if r.id > after_id
            and fingerprint in (None, r.record.fingerprint)
            and rule in (None, r.record.rule)
        ]
        return rows[:limit]

    def of_tests(
        self,
        *,
        suite: str,
        environment: str,
        nodeids: _StCollection[str],
        run_ids: _StSequence[int],
    ) -> list[_StoredFailure]:
        return [
            r
            for r in self._rows()
            if (r.record.suite, r.record.environment) == (suite, environment)
            and r.record.nodeid in nodeids
            and r.record.run_id in run_ids
        ]

    def wrong(self) -> dict[tuple[int, str], int | None]:
        found: dict[tuple[int, str], int | None] = {}
        for key in self.s.wrong:
            issues = [f.known_issue for f in self.s.failures if (f.run_id, f.nodeid) == key]
            found[key] = next((i for i in issues if i is not None), None)
        return found

    def apply(self, *, changes: _StSequence[_JudgementChange]) -> None:
        for c in changes:
            old = self.s.failures[c.failure_id - 1]
            self.s.failures[c.failure_id - 1] = _st_replace(
                old,
                known_issue=c.after_issue,
                rule=c.after_rule,
                classification=c.after_classification,
                category=c.after_category,
            )
        self.s.judgement_changes.extend(changes)

    def recount_clusters(self, *, fingerprints: _StCollection[str]) -> None:
        for fp in fingerprints:
            rows = [
                f
                for f in self.s.failures
                if f.fingerprint == fp and f.known_issue is None and f.outcome != "flaky"
            ]
            if not rows:
                self.s.clusters.pop(fp, None)
            elif fp in self.s.clusters:
                self.s.clusters[fp] = _st_replace(
                    self.s.clusters[fp],
                    count=len(rows),
                    runs=len({f.run_id for f in rows}),
                    first_seen=min(f.started_at for f in rows),
                    last_seen=max(f.started_at for f in rows),
                )

    def changes(
        self, *, run_id: int | None, offset: int, limit: int
    ) -> tuple[list[_JudgementChange], int]:
        found = [c for c in reversed(self.s.judgement_changes) if run_id in (None, c.run_id)]
        return found[offset : offset + limit], len(found)

    def knowledge_digest(self) -> str | None:
        return self.s.knowledge_digests[-1] if self.s.knowledge_digests else None

    def set_knowledge_digest(self, *, digest: str, at: _st_datetime, changed: int) -> None:
        self.s.knowledge_digests.append(digest)


class _FakeRunIdentities:
    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def candidates(
        self, *, suite: str, environment: str, key: str, start: _st_datetime, end: _st_datetime
    ) -> list[_RunIdentity]:
        return [
            i
            for su, env, i in self.s.identities
            if (su, env, i.content_key) == (suite, environment, key)
            and start <= i.started_at <= end
        ]

    def add(self, *, suite: str, environment: str, identity: _RunIdentity) -> None:
        self.s.identities.append((suite, environment, identity))


class FakeOutbox:
    """Keeps intents by key, like the outbox table's unique key."""

    def __init__(self, store: FakeStore) -> None:
        self.s = store

    def enqueue(self, intents: _StSequence[_StIntent], *, now: _st_datetime) -> int:
        new = [i for i in intents if i.key not in self.s.intents]
        self.s.intents.update((i.key, i) for i in new)
        return len(new)


class FakeUnitOfWork:
    """The UnitOfWork port over a FakeStore; several units of work may share one store."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()
        self.runs: _RunRepository = _FakeRuns(self.store)
        self.failures: _FailureRepository = _FakeFailures(self.store)
        self.tests: _SuiteTestRepository = _FakeSuiteTests(self.store)
        self.clusters: _ClusterRepository = _FakeClusters(self.store)
        self.issues: _IssueStateRepository = _FakeIssueStates(self.store)
        self.links: _LinkRepository = _FakeLinks(self.store)
        self.reads: _ReadModels = _FakeReadModels(self.store)
        self.outbox: _Outbox = FakeOutbox(self.store)
        self.writeback: _WritebackHistory = FakeWritebackHistory()
        self.judgements: _JudgementRepository = _FakeJudgements(self.store)
        self.identities: _RunIdentityRepository = _FakeRunIdentities(self.store)

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.store.commits += 1

    def rollback(self) -> None:
        return None


# mypy checks tests/fakes.py (pyproject [tool.mypy] files): a fake that drifts from its port fails.
_uow_check: type[_UnitOfWork] = FakeUnitOfWork


# --- outbox ---------------------------------------------------------------------------------

# isort: off
from collections.abc import Collection as _ObCollection  # noqa: E402, RUF100
from dataclasses import dataclass as _ob_dataclass, field as _ob_field  # noqa: E402, RUF100
from datetime import datetime as _ob_datetime  # noqa: E402, RUF100
from bot.core.comment_policy import ClusterCandidate as _ClusterCandidate  # noqa: E402, RUF100
from bot.core.render_comments import IssueActivity as _IssueActivity  # noqa: E402, RUF100
from bot.ports.store import WritebackHistory as _WritebackHistory  # noqa: E402, RUF100
# isort: on


@_ob_dataclass
class FakeWritebackHistory:
    """Serves prepared activities and clusters; records what was asked."""

    activities: dict[int, _IssueActivity] = _ob_field(default_factory=dict)
    clusters: list[_ClusterCandidate] = _ob_field(default_factory=list)
    asked: list[tuple[str, object]] = _ob_field(default_factory=list)

    def issue_activity(
        self,
        *,
        issues: _ObCollection[int],
        now: _ob_datetime,
        run_id: int | None = None,
        latest: int = 10,
    ) -> list[_IssueActivity]:
        self.asked.append(("issue_activity", (tuple(issues), run_id)))
        return [self.activities[n] for n in sorted(issues) if n in self.activities]

    def open_issue_activity(self, *, now: _ob_datetime, latest: int = 5) -> list[_IssueActivity]:
        self.asked.append(("open_issue_activity", now))
        return [a for a in self.activities.values() if a.state != "closed"]

    def cluster_candidates(self, *, min_runs: int) -> list[_ClusterCandidate]:
        self.asked.append(("cluster_candidates", min_runs))
        return [c for c in self.clusters if c.runs >= min_runs]


_history_check: type[_WritebackHistory] = FakeWritebackHistory

# --- objective, criteria and reports --------------------------------------------------------


# Imported here, not at the top, so this section stays self-contained.
# isort: off
from collections.abc import Sequence as _Sequence  # noqa: E402, RUF100
from datetime import datetime as _datetime  # noqa: E402, RUF100
from bot.core.intents import Intent as _Intent  # noqa: E402, RUF100
# isort: on


class RecordingOutbox:
    """Outbox fake: keeps enqueued intents by key; `fail` makes enqueue raise (a crash)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.intents: dict[str, _Intent] = {}
        self.fail = fail

    def enqueue(self, intents: _Sequence[_Intent], *, now: _datetime) -> int:
        if self.fail:
            raise RuntimeError("crash while enqueueing")
        new = [i for i in intents if i.key not in self.intents]
        self.intents.update({i.key: i for i in new})
        return len(new)


_recording_outbox_check: type[_Outbox] = RecordingOutbox

# --- GitHub (issue states) ------------------------------------------------------------------

# isort: off
from collections.abc import Sequence as _IsSequence  # noqa: E402, RUF100
from bot.ports.github import GitHubError as _GitHubError  # noqa: E402, RUF100
from bot.ports.github import IssueStateReader as _IssueStateReader  # noqa: E402, RUF100
# isort: on


class FakeIssueStateReader:
    """Answers prepared issue states (or raises `error`); records the numbers asked for."""

    def __init__(self, states: _IsSequence[_IssueState] = (), error: _GitHubError | None = None):
        self.states = {s.number: s for s in states}
        self.error = error
        self.asked: list[list[int]] = []

    def issue_states(self, numbers: _IsSequence[int]) -> list[_IssueState]:
        self.asked.append(list(numbers))
        if self.error is not None:
            raise self.error
        return [self.states[n] for n in numbers if n in self.states]


_issue_reader_check: type[_IssueStateReader] = FakeIssueStateReader
