"""The webhook handlers: workflow runs, issue states, `/triage` commands (one function each).

To handle a new event, add a function here registered with `@registry.on(event, action...)`.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.artifacts import extract_reports, pick_report
from bot.core.errors import TriageError
from bot.core.intents import PostComment
from bot.core.webhook import (
    CommentEvent,
    IssueEvent,
    WebhookError,
    WorkflowRunEvent,
    find_command,
    parse_command,
)
from bot.ports.webhooks import DeliveryUnitOfWork
from bot.services.run_meta import RunMeta
from bot.services.task_checks import record_edit
from bot.services.webhook_commands import run_command, store_issue_state
from bot.services.webhook_context import WRITE_ROLES, WebhookConfig, WebhookPorts
from bot.services.webhook_registry import Apply, Step, registry
from bot.services.writeback import ingest_and_plan


def _ingest(ports: WebhookPorts, data: bytes, meta: RunMeta, *, now: datetime, found: str) -> Apply:
    def apply(uow: DeliveryUnitOfWork) -> str:
        result = ingest_and_plan(
            uow, ports.kb, data, meta, now=now, options=ports.ingest_options, policy=ports.policy
        )
        done = "created" if result.created else "already stored"
        return f"run {result.run_id} {done} from {found}"

    return apply


def is_own_comment(event: CommentEvent, bot_login: str | None) -> bool:
    """Tell whether a comment was written by the bot itself."""
    if bot_login and event.user_login.lower() == bot_login.lower():
        return True
    # A GitHub App writes as "<app>[bot]"; its configured login may omit the suffix.
    return bool(
        bot_login
        and event.user_type == "Bot"
        and event.user_login.lower().removesuffix("[bot]")
        == bot_login.lower().removesuffix("[bot]")
    )


@registry.on("workflow_run", "completed", accepts=lambda e, c: e.workflow_name in c.workflow_names)
def handle_workflow_run(event: WorkflowRunEvent, ports: WebhookPorts, now: datetime) -> Step:
    """Find the report in the run's artifacts; ingest it with the run's metadata."""
    config = ports.config
    gateway = ports.github(event.installation_id)
    artifacts = sorted(
        (a for a in gateway.list_run_artifacts(event.run_id) if not a.expired),
        key=lambda a: a.name,
    )
    skipped: list[str] = []
    for artifact in artifacts:
        if artifact.size_in_bytes > config.artifact_max_bytes:
            skipped.append(f"{artifact.name} (too large)")
            continue
        data = gateway.download_artifact(artifact.id, max_bytes=config.artifact_max_bytes)
        report = pick_report(extract_reports(data, limits=config.limits))
        if report is None:
            skipped.append(f"{artifact.name} (no report)")
            continue
        return _ingest(ports, report.data, RunMeta(
            suite=event.workflow_name, environment=config.environment,
            branch=event.head_branch, commit=event.head_sha, ci_url=event.html_url,
            started_at=event.run_started_at, source="webhook",
        ), now=now, found=f"{artifact.name}/{report.name}")  # fmt: skip
    detail = ", ".join(skipped) or "none"
    return f"no report artifact in workflow run {event.run_id}: {detail}"


def _store_state(
    uow: DeliveryUnitOfWork, event: IssueEvent, ports: WebhookPorts, now: datetime
) -> str:
    known = store_issue_state(
        uow, ports.known(), issue=event.number, state=event.state,
        reason=event.state_reason, updated_at=event.updated_at or now,
    )  # fmt: skip
    verdict = "stored" if known else "not a known issue"
    return f"issue #{event.number} {event.state}: {verdict}"


@registry.on("issues", "closed", "reopened", inline=True)
def handle_issue(event: IssueEvent, ports: WebhookPorts, now: datetime) -> Step:
    """Store a known issue's state so later matches are known or recurred."""
    return lambda uow: _store_state(uow, event, ports, now)


@registry.on("issues", "edited", inline=True)
def handle_issue_edited(event: IssueEvent, ports: WebhookPorts, now: datetime) -> Step:
    """Store the issue's state; on the tracking issue, record which task items changed."""
    config = ports.config

    def apply(uow: DeliveryUnitOfWork) -> str:
        outcome = _store_state(uow, event, ports, now)
        if event.number != config.tracking_issue or not config.task_phrases:
            return outcome
        checks = record_edit(
            uow.tasks, dict(config.task_phrases), old=event.previous_body, new=event.body,
            by=event.sender, at=event.updated_at or now,
        )  # fmt: skip
        done = ", ".join(f"{c.criterion} {'checked' if c.checked else 'unchecked'}" for c in checks)
        return f"{outcome}; task list: {done or 'no change'}"

    return apply


def _wants_comment(event: CommentEvent, config: WebhookConfig) -> bool:
    return find_command(event.body) is not None and not is_own_comment(event, config.bot_login)


def _command(
    uow: DeliveryUnitOfWork,
    event: CommentEvent,
    known: dict[int, str],
    now: datetime,
    ports: WebhookPorts,
) -> tuple[str, str]:
    config, kb, policy = ports.config, ports.kb, ports.ingest_options.flaky
    try:
        command = parse_command(event.body)
    except WebhookError as exc:
        return exc.message, f"bad command: {exc.reason}"
    if command is None:
        return "no `/triage` command found.", "no command"
    try:
        text = run_command(
            uow, known, command, issue=event.issue_number, user=event.user_login, now=now,
            link_confirm_threshold=config.link_confirm_threshold, kb=kb, policy=policy,
        )  # fmt: skip
    except TriageError as exc:
        uow.rollback()  # nothing of the command is applied; the reply says why
        return exc.message, f"command refused: {exc.reason}"
    return text, f"ran {type(command).__name__} for {event.user_login}"


@registry.on("issue_comment", "created", accepts=_wants_comment)
def handle_comment(event: CommentEvent, ports: WebhookPorts, now: datetime) -> Step:
    """Run a `/triage` command from a user with write access; its reply commits with it."""
    gateway = ports.github(event.installation_id)
    if is_own_comment(event, gateway.bot_login()) or is_own_comment(event, ports.config.bot_login):
        return "ignored: the bot's own comment"
    role = gateway.permission(event.user_login)

    def apply(uow: DeliveryUnitOfWork) -> str:
        if role not in WRITE_ROLES:
            text = f"/triage commands need write access to this repository; you have {role}."
            outcome = f"refused {event.user_login} ({role})"
        else:
            text, outcome = _command(uow, event, ports.known(), now, ports)
        key = f"triage-reply-{event.comment_id}"
        reply = PostComment(event.issue_number, f"@{event.user_login} {text}", key)
        uow.outbox.enqueue([reply], now=now)
        return outcome

    return apply
