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
from bot.ports.store import FailureRecord as _FailureRecord  # noqa: E402, RUF100
from bot.core.clusters import ClusterSummary as _ClusterSummary
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
        self.clusters: dict[str, _ClusterSummary] = {}
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

    def record(self, *, hits: _StSequence[_ClusterSummary]) -> None:
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

    def top(self, *, offset: int, limit: int) -> tuple[list[_ClusterSummary], int]:
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
from bot.core.render_comments import IssueActivity as _IssueActivity  # noqa: E402, RUF100
from bot.ports.store import WritebackHistory as _WritebackHistory  # noqa: E402, RUF100
# isort: on


@_ob_dataclass
class FakeWritebackHistory:
    """Serves prepared activities and clusters; records what was asked."""

    activities: dict[int, _IssueActivity] = _ob_field(default_factory=dict)
    clusters: list[_ClusterSummary] = _ob_field(default_factory=list)
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

    def cluster_candidates(self, *, min_runs: int) -> list[_ClusterSummary]:
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

# --- the sender's outbox queue (OutboxQueue) ------------------------------------------------

# isort: off
from collections.abc import Sequence as _QSequence  # noqa: E402, RUF100
from dataclasses import dataclass as _q_dataclass  # noqa: E402, RUF100
from datetime import datetime as _q_datetime, timedelta as _q_timedelta  # noqa: E402, RUF100
from bot.core.intents import Intent as _QIntent, SetCommitVerdict as _QSetCommitVerdict  # noqa: E402, RUF100
from bot.core.intents import UpsertComment as _QUpsertComment, intent_kind as _intent_kind  # noqa: E402, RUF100
from bot.core.intents import intent_from_payload as _intent_from_payload  # noqa: E402, RUF100
from bot.core.intents import intent_target as _intent_target  # noqa: E402, RUF100
from bot.core.intents import intent_to_payload as _intent_to_payload  # noqa: E402, RUF100
from bot.core.redact import redact as _q_redact  # noqa: E402, RUF100
from bot.ports.outbox import CheckRunRecords as _CheckRunRecords, OutboxItem as _OutboxItem  # noqa: E402, RUF100
from bot.ports.outbox import OutboxQueue as _OutboxQueue, OutboxStats as _OutboxStats  # noqa: E402, RUF100
from bot.ports.outbox import Requeued as _Requeued  # noqa: E402, RUF100
# isort: on

_Q_ERROR_CAP = 500  # the store keeps this much of an error
_Q_ID_MAX = 2**31 - 1  # ids past a 32-bit integer are never stored, so never found


@_q_dataclass
class QueuedRow:
    """One outbox row as the store keeps it (the intent as its stored payload)."""

    id: int
    key: str
    kind: str
    target: str
    payload: dict[str, object]
    created_at: _q_datetime
    next_attempt_at: _q_datetime
    updated_at: _q_datetime
    state: str = "pending"
    attempts: int = 0
    claimed_until: _q_datetime | None = None
    last_error: str | None = None
    result_id: int | None = None
    doubt_since: _q_datetime | None = None
    revivals: int = 0


class FakeOutboxQueue:
    """The outbox table in memory, with the SQL queue's rules: leases, doubt, supersession.

    enqueue is the writers' side (the Outbox port), so one object is the whole outbox; it also
    keeps the check runs of commit verdicts (CheckRunRecords), as the SQL queue does.
    """

    def __init__(self) -> None:
        self.rows: list[QueuedRow] = []
        self.comments: dict[tuple[int, str], tuple[int, str]] = {}
        self.check_runs: dict[tuple[int, str], int] = {}

    def _get(self, item_id: int) -> QueuedRow | None:
        return next((r for r in self.rows if r.id == item_id), None)

    def enqueue(self, intents: _QSequence[_QIntent], *, now: _q_datetime) -> int:
        new = 0
        for intent in intents:
            if any(r.key == intent.key for r in self.rows):
                continue
            row = QueuedRow(
                id=len(self.rows) + 1, key=intent.key, kind=_intent_kind(intent),
                target=_intent_target(intent), payload=_intent_to_payload(intent),
                created_at=now, next_attempt_at=now, updated_at=now,
            )  # fmt: skip
            self.rows.append(row)
            new += 1
            if not isinstance(intent, _QUpsertComment | _QSetCommitVerdict):
                continue
            # A newer text replaces one not sent yet, unless a write of it may still land.
            for old in self.rows:
                if (
                    old.id < row.id
                    and old.target == row.target
                    and old.state == "pending"
                    and old.doubt_since is None
                    and (old.claimed_until is None or old.claimed_until <= now)
                ):
                    old.state, old.updated_at, old.claimed_until = "superseded", now, None
        return new

    def claim_next(self, *, now: _q_datetime, lease_s: float) -> _OutboxItem | None:
        busy = {
            r.target for r in self.rows if r.claimed_until is not None and r.claimed_until > now
        }
        busy |= {
            r.target
            for r in self.rows
            if r.doubt_since is not None and r.state == "pending" and r.next_attempt_at > now
        }
        row = next(
            (
                r
                for r in self.rows
                if r.state == "pending" and r.next_attempt_at <= now and r.target not in busy
            ),
            None,
        )
        if row is None:
            return None
        row.attempts += 1
        row.next_attempt_at = row.claimed_until = now + _q_timedelta(seconds=lease_s)
        row.updated_at = now
        intent = _intent_from_payload(row.kind, row.payload)
        return _OutboxItem(row.id, intent, row.attempts, row.created_at, row.doubt_since)

    def complete(self, item_id: int, *, result_id: int | None, now: _q_datetime) -> None:
        row = self._get(item_id)
        if row is not None:
            row.state, row.result_id, row.updated_at = "sent", result_id, now
            row.last_error = row.doubt_since = row.claimed_until = None

    def retry_later(
        self, item_id: int, *, error: str, at: _q_datetime, uncount: bool = False
    ) -> None:
        row = self._get(item_id)
        if row is None or row.state != "pending":
            return
        row.next_attempt_at, row.updated_at, row.claimed_until = at, at, None
        row.last_error = _q_redact(error)[:_Q_ERROR_CAP]
        if uncount:  # the claim was a look for a marker, not an attempt
            row.attempts -= 1

    def dead(
        self,
        item_id: int,
        *,
        error: str,
        now: _q_datetime,
        revive_after_s: _QSequence[float] = (),
    ) -> None:
        row = self._get(item_id)
        if row is None or row.state != "pending":
            return
        wait = revive_after_s[row.revivals] if row.revivals < len(revive_after_s) else 0.0
        row.state, row.updated_at, row.claimed_until = "dead", now, None
        row.last_error = _q_redact(error)[:_Q_ERROR_CAP]
        row.next_attempt_at = now + _q_timedelta(seconds=wait)

    def begin_write(self, item_id: int, *, now: _q_datetime) -> None:
        row = self._get(item_id)
        if row is not None:
            row.doubt_since = now

    def clear_doubt(self, item_id: int) -> None:
        row = self._get(item_id)
        if row is not None:
            row.doubt_since = None

    def _put_back(self, row: QueuedRow, now: _q_datetime, *, revivals: int) -> None:
        row.state, row.attempts, row.revivals = "pending", 0, revivals
        row.next_attempt_at, row.updated_at, row.claimed_until = now, now, None

    def revive_dead(self, *, now: _q_datetime, max_revivals: int) -> int:
        due = [
            r
            for r in self.rows
            if r.state == "dead" and r.revivals < max_revivals and r.next_attempt_at <= now
        ]
        for row in due:
            self._put_back(row, now, revivals=row.revivals + 1)
        return len(due)

    def requeue(self, ids: _QSequence[int] | None, *, now: _q_datetime) -> _Requeued:
        if ids is None:
            states = {r.id: r.state for r in self.rows if r.state == "dead"}
        else:
            wanted = {i for i in ids if 0 < i <= _Q_ID_MAX}
            states = {r.id: r.state for r in self.rows if r.id in wanted}
        dead = sorted(i for i, s in states.items() if s == "dead")
        for row in self.rows:
            if row.id in dead:
                self._put_back(row, now, revivals=0)
        shown = states if ids is None else {i: states.get(i, "missing") for i in sorted(set(ids))}
        skipped = tuple((i, s) for i, s in sorted(shown.items()) if s != "dead")
        return _Requeued(requeued=tuple(dead), skipped=skipped)

    def next_due_at(self) -> _q_datetime | None:
        pending = [r for r in self.rows if r.state == "pending"]

        def holding(r: QueuedRow) -> bool:
            return r.doubt_since is not None or r.claimed_until is not None

        # A row waiting behind a write in flight or in doubt for its target is not due by itself.
        held = {r.target for r in pending if holding(r)}
        due = [r.next_attempt_at for r in pending if holding(r) or r.target not in held]
        return min(due, default=None)

    def comment_record(self, issue: int, marker: str) -> tuple[int, str] | None:
        return self.comments.get((issue, marker))

    def save_comment_record(
        self, issue: int, marker: str, *, comment_id: int, body: str, now: _q_datetime
    ) -> None:
        self.comments[(issue, marker)] = (comment_id, body)

    def drop_comment_record(self, issue: int, marker: str) -> None:
        self.comments.pop((issue, marker), None)

    def check_run_id(self, run_id: int, name: str) -> int | None:
        return self.check_runs.get((run_id, name))

    def save_check_run(
        self, run_id: int, name: str, *, check_run_id: int, now: _q_datetime
    ) -> None:
        self.check_runs[(run_id, name)] = check_run_id

    def drop_check_run(self, run_id: int, name: str, *, now: _q_datetime) -> None:
        self.check_runs.pop((run_id, name), None)

    def stats(self, *, dead_limit: int = 50) -> _OutboxStats:
        def count(state: str) -> int:
            return sum(r.state == state for r in self.rows)

        dead = sorted((r for r in self.rows if r.state == "dead"), key=lambda r: -r.id)
        shown: tuple[dict[str, object], ...] = tuple(
            {
                "id": r.id, "key": r.key, "kind": r.kind, "attempts": r.attempts,
                "last_error": r.last_error, "updated_at": r.updated_at.isoformat(),
                "revivals": r.revivals,
            }
            for r in dead[:dead_limit]
        )  # fmt: skip
        return _OutboxStats(
            pending=count("pending"),
            sent=count("sent"),
            dead=count("dead"),
            superseded=count("superseded"),
            dead_rows=shown,
            in_doubt=sum(r.doubt_since is not None and r.state == "pending" for r in self.rows),
        )


_outbox_queue_check: type[_OutboxQueue] = FakeOutboxQueue
_outbox_queue_writer_check: type[_Outbox] = FakeOutboxQueue
_check_run_records_check: type[_CheckRunRecords] = FakeOutboxQueue

# --- webhook deliveries (Deliveries) and task checks ----------------------------------------

# isort: off
from collections.abc import Sequence as _DSequence  # noqa: E402, RUF100
from copy import deepcopy as _d_deepcopy  # noqa: E402, RUF100
from dataclasses import dataclass as _d_dataclass  # noqa: E402, RUF100
from datetime import datetime as _d_datetime  # noqa: E402, RUF100
from bot.core.redact import redact as _d_redact  # noqa: E402, RUF100
from bot.core.tasklist import TaskCheck as _TaskCheck  # noqa: E402, RUF100
from bot.ports.reports import TaskCheckRepository as _TaskCheckRepository  # noqa: E402, RUF100
from bot.ports.webhooks import Deliveries as _Deliveries  # noqa: E402, RUF100
from bot.ports.webhooks import DeliveryRecorder as _DeliveryRecorder  # noqa: E402, RUF100
from bot.ports.webhooks import DeliveryUnitOfWork as _DeliveryUnitOfWork  # noqa: E402, RUF100
# isort: on


@_d_dataclass
class StoredDelivery:
    """One delivery as the store keeps it."""

    guid: str
    event: str
    action: str
    status: str
    payload: bytes | None
    outcome: str
    attempts: int
    received_at: _d_datetime
    updated_at: _d_datetime


@_d_dataclass(frozen=True, slots=True)
class FakeClaimed:
    guid: str
    event: str
    payload: bytes
    attempts: int


class FakeDeliveries:
    """The deliveries table in memory; writes apply at once (a unit of work cannot undo them)."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredDelivery] = {}  # in the order received

    def record(
        self,
        *,
        guid: str,
        event: str,
        action: str,
        payload: bytes | None,
        status: str,
        now: _d_datetime,
        outcome: str = "",
        attempts: int = 0,
    ) -> bool:
        if guid in self.rows:
            return False
        kept = payload if status in ("pending", "processing") else None
        self.rows[guid] = StoredDelivery(
            guid, event, action, status, kept, _d_redact(outcome)[:2000], attempts, now, now
        )
        return True

    def claim(
        self, *, guid: str, now: _d_datetime, stale_before: _d_datetime | None = None
    ) -> FakeClaimed | None:
        row = self.rows.get(guid)
        if row is None or row.payload is None:
            return None
        stuck = (
            row.status == "processing"
            and stale_before is not None
            and row.updated_at < stale_before
        )
        if row.status != "pending" and not stuck:
            return None
        row.status, row.updated_at = "processing", now
        row.attempts += 1
        return FakeClaimed(row.guid, row.event, row.payload, row.attempts)

    def release(self, *, guid: str, outcome: str, now: _d_datetime) -> None:
        row = self.rows.get(guid)
        if row is not None:
            row.status, row.outcome, row.updated_at = "pending", _d_redact(outcome)[:2000], now

    def finish(self, *, guid: str, status: str, outcome: str, now: _d_datetime) -> None:
        row = self.rows.get(guid)
        if row is not None:
            row.status, row.outcome, row.updated_at = status, _d_redact(outcome)[:2000], now
            row.payload = None

    def pending(
        self,
        *,
        limit: int,
        before: _d_datetime | None = None,
        stuck_before: _d_datetime | None = None,
    ) -> list[str]:
        def waiting(r: StoredDelivery) -> bool:
            if r.status == "pending":
                return before is None or r.updated_at < before
            return (
                r.status == "processing"
                and stuck_before is not None
                and r.updated_at < stuck_before
            )

        # sorted() keeps the order received among equal times, as the store's insertion does.
        found = sorted((r for r in self.rows.values() if waiting(r)), key=lambda r: r.received_at)
        return [r.guid for r in found[:limit]]


_deliveries_check: type[_Deliveries] = FakeDeliveries
_delivery_recorder_check: type[_DeliveryRecorder] = FakeDeliveries


class FakeTaskChecks:
    """The task criteria's checks in memory; writes apply at once."""

    def __init__(self) -> None:
        self.checks: list[_TaskCheck] = []  # in the order added

    def add(self, *, checks: _DSequence[_TaskCheck]) -> None:
        self.checks.extend(checks)

    def history(self) -> list[_TaskCheck]:
        return sorted(self.checks, key=lambda c: c.at)  # stable: added order among equal times

    def latest(self) -> dict[str, bool]:
        return {c.criterion: c.checked for c in self.history()}


_task_checks_check: type[_TaskCheckRepository] = FakeTaskChecks


class FakeDeliveryUnitOfWork(FakeUnitOfWork):
    """FakeUnitOfWork with the deliveries and the task checks, which units of work may share.

    Unlike FakeUnitOfWork it rolls back: leaving without commit() restores the store, the
    deliveries and the task checks as they were at entry or at the last commit. Units of work
    on one store must therefore not overlap.
    """

    def __init__(
        self,
        store: FakeStore | None = None,
        *,
        deliveries: FakeDeliveries | None = None,
        tasks: FakeTaskChecks | None = None,
    ) -> None:
        super().__init__(store)
        self._deliveries = deliveries if deliveries is not None else FakeDeliveries()
        self._tasks = tasks if tasks is not None else FakeTaskChecks()
        self.deliveries: _Deliveries = self._deliveries
        self.tasks: _TaskCheckRepository = self._tasks
        self._saved: tuple[dict[str, object], dict[str, StoredDelivery], list[_TaskCheck]]
        self._save()

    def _save(self) -> None:
        self._saved = _d_deepcopy((self.store.__dict__, self._deliveries.rows, self._tasks.checks))

    def __enter__(self) -> FakeDeliveryUnitOfWork:
        self._save()
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def commit(self) -> None:
        super().commit()
        self._save()

    def rollback(self) -> None:
        store, rows, checks = _d_deepcopy(self._saved)
        self.store.__dict__.update(store)
        self._deliveries.rows, self._tasks.checks = rows, checks


_delivery_uow_check: type[_DeliveryUnitOfWork] = FakeDeliveryUnitOfWork

# --- report read models and week claims (ReportRepository) ----------------------------------

# isort: off
from collections.abc import Callable as _RCallable  # noqa: E402, RUF100
from dataclasses import dataclass as _r_dataclass, field as _r_field  # noqa: E402, RUF100
from datetime import date as _r_date, datetime as _r_datetime  # noqa: E402, RUF100
from datetime import timedelta as _r_timedelta, tzinfo as _r_tzinfo  # noqa: E402, RUF100
from bot.core.criteria import WeekFacts as _WeekFacts  # noqa: E402, RUF100
from bot.core.intents import Intent as _RIntent  # noqa: E402, RUF100
from bot.core.objective import ObjectiveInputs as _ObjectiveInputs  # noqa: E402, RUF100
from bot.core.objective import Regression as _Regression  # noqa: E402, RUF100
from bot.core.objective import window_start_time as _window_start_time  # noqa: E402, RUF100
from bot.core.weekly import ClusterLine as _ClusterLine, FlakyLine as _FlakyLine  # noqa: E402, RUF100
from bot.core.weekly import IsoWeek as _IsoWeek  # noqa: E402, RUF100
from bot.ports.reports import ReportRepository as _ReportRepository, RunLine as _RunLine  # noqa: E402, RUF100
from bot.ports.reports import ReportsUnitOfWork as _ReportsUnitOfWork  # noqa: E402, RUF100
from bot.ports.reports import ReportsUowFactory as _ReportsUowFactory  # noqa: E402, RUF100
# isort: on

_R_PASSING = ("passed", "flaky", "xpassed")
_R_FAILING = ("failed", "error")


@_r_dataclass
class FakeReportData:
    """What the report read models are computed from, shared by every unit of work.

    Runs are RunLines; the rest is kept as the read models need it: each suite's
    infrastructure regressions, prepared week facts by (suite, "2026-W46"), clusters with
    their first sighting, flaky failures and known-issue occurrences as (suite, time, what).
    """

    runs: list[_RunLine] = _r_field(default_factory=list)
    regressions: dict[str, list[_Regression]] = _r_field(default_factory=dict)
    facts: dict[tuple[str, str], _WeekFacts] = _r_field(default_factory=dict)
    tests: dict[str, list[str]] = _r_field(default_factory=dict)
    clusters: list[tuple[str, _r_datetime, _ClusterLine]] = _r_field(default_factory=list)
    flaky: list[tuple[str, _r_datetime, str]] = _r_field(default_factory=list)
    known: list[tuple[str, _r_datetime, int]] = _r_field(default_factory=list)
    titles: dict[int, str] = _r_field(default_factory=dict)
    claims: dict[tuple[str, str], _r_datetime] = _r_field(default_factory=dict)  # committed
    held: set[tuple[str, str]] = _r_field(default_factory=set)  # claimed, not yet committed
    intents: dict[str, _RIntent] = _r_field(default_factory=dict)  # committed outbox writes
    tasks: FakeTaskChecks = _r_field(default_factory=FakeTaskChecks)
    commits: int = 0

    def add_run(
        self, suite: str, started_at: _r_datetime, counts: dict[str, int] | None = None
    ) -> _RunLine:
        """Store a run; its counts default to one passed test."""
        counts = counts if counts is not None else {"passed": 1}
        line = _RunLine(len(self.runs) + 1, suite, started_at, sum(counts.values()), counts, {})
        self.runs.append(line)
        return line


class FakeReportRepository:
    """ReportRepository over FakeReportData; its week claims are held until commit."""

    def __init__(self, data: FakeReportData) -> None:
        self.data = data
        self.claimed: dict[tuple[str, str], _r_datetime] = {}  # this transaction's claims

    def _runs(self, suite: str) -> list[_RunLine]:
        return [r for r in self.data.runs if r.suite == suite]

    def first_run_at(self, *, suite: str) -> _r_datetime | None:
        return min((r.started_at for r in self._runs(suite)), default=None)

    def suites(self) -> list[str]:
        return sorted({r.suite for r in self.data.runs})

    def objective_inputs(
        self,
        *,
        suite: str,
        at: _r_datetime,
        days: int,
        min_coverage: float,
        tz: _r_tzinfo,
        latest: int | None = None,
    ) -> _ObjectiveInputs | None:
        first = self.first_run_at(suite=suite)
        if first is None:
            return None
        start = _window_start_time(at, days, tz)
        times = [r.started_at for r in self._runs(suite) if start <= r.started_at <= at]
        regs = sorted(
            (g for g in self.data.regressions.get(suite, []) if g.at <= at), key=lambda g: g.at
        )
        newest = sorted({g.at for g in regs}, reverse=True)
        if latest is not None and len(newest) > latest:
            regs = [g for g in regs if g.at >= newest[latest]]
        return _ObjectiveInputs(suite, at, days, min_coverage, first, times, regs, tz)

    def _per_day(
        self, suite: str, start: _r_datetime, end: _r_datetime, tz: _r_tzinfo
    ) -> list[tuple[_r_date, dict[str, int]]]:
        return [
            (r.started_at.astimezone(tz).date(), r.counts)
            for r in self._runs(suite)
            if start <= r.started_at < end
        ]

    def week_facts(
        self, *, suite: str, week: _IsoWeek, tz: _r_tzinfo, now: _r_datetime
    ) -> _WeekFacts:
        prepared = self.data.facts.get((suite, str(week)))
        if prepared is not None:
            return prepared
        per_day: dict[_r_date, int] = {}
        for day, _ in self._per_day(suite, *week.bounds(tz), tz):
            per_day[day] = per_day.get(day, 0) + 1
        return _WeekFacts(
            suite=suite,
            first_day=week.monday,
            last_day=min(week.monday + _r_timedelta(days=6), now.astimezone(tz).date()),
            runs_per_day=per_day,
            failures=[],
            failed_runs_by_nodeid={},
            tests=list(self.data.tests.get(suite, [])),
            known_this_week={},
            known_last_week={},
            objective=None,
        )

    def daily_pass_rate(
        self, *, suite: str, start: _r_datetime, end: _r_datetime, tz: _r_tzinfo
    ) -> list[tuple[_r_date, float | None]]:
        passed: dict[_r_date, int] = {}
        judged: dict[_r_date, int] = {}
        for day, counts in self._per_day(suite, start, end, tz):
            ok = sum(counts.get(k, 0) for k in _R_PASSING)
            passed[day] = passed.get(day, 0) + ok
            judged[day] = judged.get(day, 0) + ok + sum(counts.get(k, 0) for k in _R_FAILING)
        first = start.astimezone(tz).date()
        last = (end - _r_timedelta(seconds=1)).astimezone(tz).date()
        days = [first + _r_timedelta(days=i) for i in range((last - first).days + 1)]
        return [(d, passed[d] / judged[d] if judged.get(d) else None) for d in days]

    def _clusters(
        self, suite: str, limit: int, within: _RCallable[[_r_datetime], bool]
    ) -> list[_ClusterLine]:
        found = [c for s, seen, c in self.data.clusters if s == suite and within(seen)]
        return sorted(found, key=lambda c: (-c.count, c.fingerprint))[:limit]

    def new_clusters(
        self, *, suite: str, start: _r_datetime, end: _r_datetime, limit: int
    ) -> list[_ClusterLine]:
        return self._clusters(suite, limit, lambda seen: start <= seen < end)

    def top_clusters(self, *, suite: str, limit: int) -> list[_ClusterLine]:
        return self._clusters(suite, limit, lambda _seen: True)

    def flaky_tests(
        self, *, suite: str, start: _r_datetime, end: _r_datetime, limit: int
    ) -> list[_FlakyLine]:
        counts: dict[str, int] = {}
        for s, at, nodeid in self.data.flaky:
            if s == suite and start <= at < end:
                counts[nodeid] = counts.get(nodeid, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [_FlakyLine(n, c) for n, c in ranked[:limit]]

    def known_issue_daily(
        self, *, suite: str, start: _r_datetime, tz: _r_tzinfo
    ) -> dict[int, dict[_r_date, int]]:
        out: dict[int, dict[_r_date, int]] = {}
        for s, at, issue in self.data.known:
            if s == suite and at >= start:
                days = out.setdefault(issue, {})
                day = at.astimezone(tz).date()
                days[day] = days.get(day, 0) + 1
        return out

    def recent_runs(self, *, suite: str, until: _r_datetime, limit: int) -> list[_RunLine]:
        runs = [r for r in self._runs(suite) if r.started_at <= until]
        return sorted(runs, key=lambda r: (r.started_at, r.id), reverse=True)[:limit]

    def issue_titles(self) -> dict[int, str]:
        return dict(self.data.titles)

    def claim_week(self, *, suite: str, week: str, now: _r_datetime) -> bool:
        key = (suite, week)
        # A claim held by an open transaction blocks another, as the unique row does.
        if key in self.data.claims or key in self.data.held:
            return False
        self.data.held.add(key)
        self.claimed[key] = now
        return True

    def claimed_weeks(self, *, suite: str) -> set[str]:
        return {w for s, w in [*self.data.claims, *self.claimed] if s == suite}


_report_repository_check: type[_ReportRepository] = FakeReportRepository


class FakeReportsUnitOfWork:
    """One transaction over FakeReportData: claims and enqueued writes land on commit only."""

    def __init__(self, data: FakeReportData, *, outbox: RecordingOutbox | None = None) -> None:
        self.data = data
        self._reports = FakeReportRepository(data)
        self._outbox = outbox if outbox is not None else RecordingOutbox()
        self.reports: _ReportRepository = self._reports
        self.outbox: _Outbox = self._outbox
        self.tasks: _TaskCheckRepository = data.tasks

    def __enter__(self) -> FakeReportsUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        self.data.held.difference_update(self._reports.claimed)
        self._reports.claimed.clear()
        self._outbox.intents.clear()

    def commit(self) -> None:
        self.data.claims.update(self._reports.claimed)
        for key, intent in self._outbox.intents.items():
            self.data.intents.setdefault(key, intent)
        self.data.commits += 1
        self._release()


class FakeReportsUowFactory:
    """Makes units of work over one FakeReportData; records whether each was to write."""

    def __init__(
        self,
        data: FakeReportData | None = None,
        *,
        outbox: _RCallable[[], RecordingOutbox] = RecordingOutbox,
    ) -> None:
        self.data = data if data is not None else FakeReportData()
        self.outbox = outbox
        self.opened: list[bool] = []

    def __call__(self, *, write: bool = False) -> FakeReportsUnitOfWork:
        self.opened.append(write)
        return FakeReportsUnitOfWork(self.data, outbox=self.outbox())


_reports_uow_check: type[_ReportsUnitOfWork] = FakeReportsUnitOfWork
_reports_factory_check: _ReportsUowFactory = FakeReportsUowFactory()
