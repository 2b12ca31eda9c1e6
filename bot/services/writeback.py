"""Plan GitHub write-backs after an ingest and on the daily lifecycle pass, into the outbox."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from bot.core.comment_policy import PolicyConfig, plan_new_issue, plan_run, plan_stale
from bot.core.gate import SuspectRange
from bot.core.intents import Intent, SetIssueState
from bot.core.knowledge.base import KnowledgeBase
from bot.ports.outbox import Outbox
from bot.ports.store import IssueState, IssueStateRepository, UnitOfWork, WritebackHistory
from bot.services.ingest import IngestOptions, IngestResult, ingest_report
from bot.services.run_meta import RunMeta
from bot.services.verdict import plan_commit_verdict, suspects_by_fingerprint

NEW_ISSUE_LABELS = ("triage-bot",)


def overrides_of(knowledge: KnowledgeBase) -> dict[int, Mapping[str, object]]:
    """Collect each known issue's [comments] overrides."""
    return {number: issue.comment_policy for number, issue in knowledge.issues.items()}


def plan_after_ingest(
    history: WritebackHistory,
    outbox: Outbox,
    *,
    run_id: int,
    issues: Collection[int],
    now: datetime,
    config: PolicyConfig,
    overrides: Mapping[int, Mapping[str, object]] | None = None,
    states: IssueStateRepository | None = None,
    at: datetime | None = None,
    suspects: Mapping[str, Sequence[SuspectRange]] | None = None,
) -> int:
    """Plan comments for the known issues a new run matched; return how many intents were new.

    Call it in the ingest's transaction, after the run and its failures were written. `at` is
    the run's start: every decision is judged on it. A reopen the bot plans is stored as the
    issue's state in the same transaction, so the next run does not see it closed again.
    """
    activities = history.issue_activity(issues=issues, now=now, run_id=run_id)
    intents = plan_run(
        activities, run_id=run_id, now=now, at=at, config=config, overrides=overrides
    )
    if config.file_new_issues:
        candidates = history.cluster_candidates(min_runs=config.new_issue_min_runs)
        intents += plan_new_issue(
            candidates, config=config, labels=NEW_ISSUE_LABELS, suspects=suspects
        )
    if states is not None:
        record_own_states(states, intents, now=now)
    return outbox.enqueue(intents, now=now)


def record_own_states(
    states: IssueStateRepository, intents: Sequence[Intent], *, now: datetime
) -> None:
    """Store the state the bot is about to give an issue, when it plans the change.

    Planned, not sent: the outbox delivers it (retrying) and the periodic refresh from GitHub
    corrects the record if the write is dropped for good.
    """
    titles = {s.number: s.title for s in states.all()}
    for intent in intents:
        if isinstance(intent, SetIssueState):
            states.set(
                state=IssueState(
                    intent.issue, intent.state, titles.get(intent.issue, ""), intent.reason, now
                )
            )


def plan_lifecycle(
    history: WritebackHistory, outbox: Outbox, *, now: datetime, config: PolicyConfig
) -> int:
    """Suggest closing known issues quiet for stale_issue_days (once per quiet stretch)."""
    intents = plan_stale(history.open_issue_activity(now=now), now=now, config=config)
    return outbox.enqueue(intents, now=now)


def ingest_and_plan(
    uow: UnitOfWork,
    knowledge: KnowledgeBase,
    data: bytes,
    meta: RunMeta,
    *,
    now: datetime,
    options: IngestOptions,
    policy: PolicyConfig,
) -> IngestResult:
    """Ingest a report and plan its comments in the same unit of work; the caller commits.

    A report stored before plans nothing, so a re-upload never comments twice.
    """
    result = ingest_report(uow, knowledge, data, meta, now=now, options=options)
    if result.created:
        plan_after_ingest(
            uow.writeback,
            uow.outbox,
            run_id=result.run_id,
            issues=set(result.summary.known_issues),
            now=now,
            config=policy,
            overrides=overrides_of(knowledge),
            states=uow.issues,
            suspects=(
                suspects_by_fingerprint(uow, run_id=result.run_id)
                if policy.file_new_issues
                else None
            ),
        )
        if policy.commit_verdict is not None:
            plan_commit_verdict(uow, run_id=result.run_id, target=policy.commit_verdict, now=now)
    return result
