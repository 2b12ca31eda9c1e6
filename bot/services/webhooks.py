"""Handle GitHub deliveries: accept fast, process later, retry what a crash interrupted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.core.artifacts import extract_reports, pick_report
from bot.core.errors import TriageError
from bot.core.intents import PostComment
from bot.core.webhook import (
    CommentEvent,
    Event,
    IssueEvent,
    WebhookError,
    WorkflowRunEvent,
    find_command,
    parse_command,
    parse_event,
)
from bot.ports import GitHubError, GitHubGateway
from bot.services.webhook_ports import (
    WRITE_ROLES,
    DeliveryStore,
    IngestRequest,
    WebhookActions,
    WebhookConfig,
)

log = logging.getLogger(__name__)

PENDING, DONE, FAILED, IGNORED = "pending", "done", "failed", "ignored"
ISSUE_ACTIONS = frozenset({"closed", "reopened", "edited"})


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


def wants(event: Event | None, config: WebhookConfig) -> bool:
    """Tell whether a parsed delivery has work to do (cheap: no I/O)."""
    if isinstance(event, WorkflowRunEvent):
        return event.action == "completed" and event.workflow_name in config.workflow_names
    if isinstance(event, IssueEvent):
        return event.action in ISSUE_ACTIONS
    if isinstance(event, CommentEvent):
        return (
            event.action == "created"
            and find_command(event.body) is not None
            and not is_own_comment(event, config.bot_login)
        )
    return False


def gateway_for(event: Event, actions: WebhookActions) -> GitHubGateway:
    """Return the gateway acting as the App installation that sent the delivery, if any."""
    if event.installation_id is None:
        return actions.github()  # a token, or a webhook set on the repository itself
    return actions.github(event.installation_id)


def handle_workflow_run(
    event: WorkflowRunEvent, *, actions: WebhookActions, config: WebhookConfig, now: datetime
) -> str:
    """Find the report in the run's artifacts and ingest it with the run's metadata."""
    gateway = gateway_for(event, actions)
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
        request = IngestRequest(
            data=report.data,
            suite=event.workflow_name,
            environment=config.environment,
            branch=event.head_branch,
            commit=event.head_sha,
            ci_url=event.html_url,
            started_at=event.run_started_at,
        )
        summary = actions.ingest(request, now=now)
        return f"{summary} from {artifact.name}/{report.name}"
    detail = ", ".join(skipped) or "none"
    return f"no report artifact in workflow run {event.run_id}: {detail}"


def handle_issue(event: IssueEvent, *, actions: WebhookActions, now: datetime) -> str:
    """Store a known issue's state so later matches are known or recurred."""
    known = actions.set_issue_state(
        issue=event.number, state=event.state, reason=event.state_reason,
        now=event.updated_at or now,
    )  # fmt: skip
    verdict = "stored" if known else "not a known issue"
    return f"issue #{event.number} {event.state}: {verdict}"


def _run_command(event: CommentEvent, *, actions: WebhookActions, now: datetime) -> tuple[str, str]:
    try:
        command = parse_command(event.body)
    except WebhookError as exc:
        return exc.message, f"bad command: {exc.reason}"
    if command is None:
        return "no `/triage` command found.", "no command"
    try:
        text = actions.execute(command, issue=event.issue_number, user=event.user_login, now=now)
    except TriageError as exc:
        # Nothing was applied (the unit of work rolled back): say why in the reply.
        return exc.message, f"command refused: {exc.reason}"
    return text, f"ran {type(command).__name__} for {event.user_login}"


def handle_comment(
    event: CommentEvent, *, actions: WebhookActions, config: WebhookConfig, now: datetime
) -> str:
    """Run a `/triage` command from a user with write access and plan the reply."""
    gateway = gateway_for(event, actions)
    if is_own_comment(event, gateway.bot_login()) or is_own_comment(event, config.bot_login):
        return "ignored: the bot's own comment"
    role = gateway.permission(event.user_login)
    if role not in WRITE_ROLES:
        text = f"/triage commands need write access to this repository; you have {role}."
        outcome = f"refused {event.user_login} ({role})"
    else:
        text, outcome = _run_command(event, actions=actions, now=now)
    key = f"triage-reply-{event.comment_id}"
    actions.reply(PostComment(event.issue_number, f"@{event.user_login} {text}", key), now=now)
    return outcome


def handle(event: Event, *, actions: WebhookActions, config: WebhookConfig, now: datetime) -> str:
    """Dispatch a parsed delivery by its type; return what was done."""
    if isinstance(event, WorkflowRunEvent):
        return handle_workflow_run(event, actions=actions, config=config, now=now)
    if isinstance(event, IssueEvent):
        return handle_issue(event, actions=actions, now=now)
    return handle_comment(event, actions=actions, config=config, now=now)


def _retry_later(exc: Exception) -> bool:
    if isinstance(exc, GitHubError):
        return exc.transient  # 5xx, timeouts, rate limits
    return not isinstance(exc, TriageError)  # bad input never gets better


def process_delivery(
    guid: str,
    *,
    store: DeliveryStore,
    actions: WebhookActions,
    config: WebhookConfig,
    clock: Callable[[], datetime],
    stale_before: datetime | None = None,
) -> str | None:
    """Process one waiting delivery; bad input fails it, passing trouble leaves it to retry."""
    claimed = store.claim(guid=guid, now=clock(), stale_before=stale_before)
    if claimed is None:
        return None
    try:
        event = parse_event(claimed.event, claimed.payload)
        if event is None or not wants(event, config):
            outcome, status = "nothing to do", IGNORED
        else:
            outcome, status = handle(event, actions=actions, config=config, now=clock()), DONE
    except Exception as exc:
        log.warning("delivery %s: attempt %d failed", guid, claimed.attempts, exc_info=exc)
        if _retry_later(exc) and claimed.attempts < config.max_attempts:
            store.release(guid=guid, outcome=f"attempt {claimed.attempts} failed", now=clock())
            return None
        detail = f"{exc.reason}: {exc.message}" if isinstance(exc, TriageError) else "error"
        outcome, status = f"{detail} (attempt {claimed.attempts})", FAILED
    store.finish(guid=guid, status=status, outcome=outcome, now=clock())
    log.info("delivery %s %s: %s", guid, status, outcome)
    return outcome


def process_pending(
    *,
    store: DeliveryStore,
    actions: WebhookActions,
    config: WebhookConfig,
    clock: Callable[[], datetime],
    waiting_since: datetime | None = None,
    stuck_since: datetime | None = None,
    limit: int = 100,
) -> int:
    """Process deliveries left waiting (a failed attempt, a crash, a restart); count them.

    Pending rows last touched before `waiting_since` and rows stuck processing since before
    `stuck_since` are taken; both default to now (at start-up nothing else is running).
    """
    now = clock()
    waiting_since = waiting_since or now
    stuck_since = stuck_since or now
    done = 0
    for guid in store.pending(limit=limit, before=waiting_since, stuck_before=stuck_since):
        outcome = process_delivery(
            guid, store=store, actions=actions, config=config, clock=clock, stale_before=stuck_since
        )
        done += outcome is not None
    return done
