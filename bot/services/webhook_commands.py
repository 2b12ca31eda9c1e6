"""`/triage` commands and issue-state events, applied through the links service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.core.classify import FlakyPolicy
from bot.core.knowledge import KnowledgeBase
from bot.core.webhook import (
    Command,
    LinkCommand,
    StatusCommand,
    UnlinkCommand,
    WebhookError,
    WrongCommand,
    parse_run_id,
)
from bot.ports.store import UnitOfWork
from bot.services import links, rejudge

# `/triage link GLOB` past this many stored failures needs `--confirm` (a setting).
DEFAULT_LINK_CONFIRM_THRESHOLD = 200


def store_issue_state(
    uow: UnitOfWork,
    known: Mapping[int, str],
    *,
    issue: int,
    state: str,
    reason: str | None,
    updated_at: datetime,
) -> bool:
    """Store a known issue's GitHub state (newest wins); False when it is no known issue."""
    if issue not in known:
        return False
    links.set_issue_state(
        uow, number=issue, state=state, title=known[issue], state_reason=reason,
        updated_at=updated_at,
    )  # fmt: skip
    return True


def _status(uow: UnitOfWork, known: Mapping[int, str], issue: int) -> str:
    if issue not in known:
        return f"#{issue} is not in the knowledge base, so no failures are matched to it."
    stats = next((s for s in uow.reads.issue_stats() if s.issue == issue), None)
    state = next((s.state for s in uow.issues.all() if s.number == issue), "unknown")
    lines = [f"**{known[issue]}** (#{issue}, {state})"]
    if stats is None or not stats.occurrences:
        lines.append("No matched failures stored yet.")
    else:
        last = stats.last_seen.strftime("%Y-%m-%d %H:%M UTC") if stats.last_seen else "never"
        lines.append(f"{stats.occurrences} failures in {stats.runs} runs, last seen {last}.")
    for rule in (r for r in uow.reads.rule_stats() if r.issue == issue):
        lines.append(f"- rule `{rule.rule}`: {rule.matches} matches, {rule.wrong} marked wrong")
    for link in (lk for lk in uow.links.links() if lk.issue == issue):
        lines.append(f"- manual link ({link.kind}) `{link.pattern}` by @{link.created_by}")
    return "\n".join(lines)


def _link(
    uow: UnitOfWork, known: Mapping[int, str], command: LinkCommand, *, issue: int, user: str,
    now: datetime, confirm_threshold: int,
) -> tuple[str, bool]:  # fmt: skip
    if issue not in known:
        return f"#{issue} is not a known issue; add it to knowledge/ before linking to it.", False
    kind, pattern = links.parse_target(command.pattern)
    if kind == "glob" and not command.confirm:
        count = uow.failures.count_matching(glob=pattern)
        if count > confirm_threshold:
            return (
                f"`{pattern}` matches {count} stored failures, more than {confirm_threshold}: "
                "nothing linked. Narrow the "
                f"glob, or repeat with `--confirm` to link them all to #{issue}."
            ), False
    done = links.link(uow, issue=issue, target=command.pattern, by=user, now=now)
    verb = "linked" if done.created else "re-pointed"
    return f"{verb} {done.kind} `{done.pattern}` to #{issue}.", True


def run_command(
    uow: UnitOfWork,
    known: Mapping[int, str],
    command: Command,
    *,
    issue: int,
    user: str,
    now: datetime,
    link_confirm_threshold: int = DEFAULT_LINK_CONFIRM_THRESHOLD,
    kb: KnowledgeBase | None = None,
    policy: FlakyPolicy | None = None,
) -> str:
    """Apply a command on `issue` in the caller's transaction; return the reply text.

    With `kb`, link, unlink and wrong also re-judge the stored failures they touch.
    Raises TriageError (bad pattern, unknown run or test) for the caller to answer.
    """
    text, changed = _run(
        uow, known, command, issue=issue, user=user, now=now,
        link_confirm_threshold=link_confirm_threshold,
    )  # fmt: skip
    # Only a command that changed a link or a wrong mark moves stored judgements: a refused
    # link must not walk every failure its glob names.
    if kb is None or not changed or isinstance(command, StatusCommand):
        return text
    return text + _rejudged(uow, kb, command, user=user, now=now, policy=policy)


def _rejudged(
    uow: UnitOfWork, kb: KnowledgeBase, command: LinkCommand | UnlinkCommand | WrongCommand, *,
    user: str, now: datetime,
    policy: FlakyPolicy | None,
) -> str:  # fmt: skip
    """Re-judge what the command touched; say how many stored failures moved."""
    detail = f"/triage {command.__class__.__name__.removesuffix('Command').lower()} by @{user}"
    if isinstance(command, LinkCommand | UnlinkCommand):
        kind, pattern = links.parse_target(command.pattern)
        reason = rejudge.LINK if isinstance(command, LinkCommand) else rejudge.UNLINK
        result = rejudge.rejudge_target(
            uow, kb, kind=kind, pattern=pattern, reason=reason,
            detail=f"{detail}: {pattern}", now=now, policy=policy,
        )  # fmt: skip
    else:
        try:
            run_id = parse_run_id(command.run_id)
        except WebhookError:
            return ""  # the reply already says it is not a run id
        result = rejudge.rejudge_failure(
            uow, kb, run_id=run_id, nodeid=command.nodeid,
            reason=rejudge.WRONG, detail=detail, now=now, policy=policy,
        )  # fmt: skip
    n = len(result.changes)
    return f" Re-judged {n} stored failure{'' if n == 1 else 's'}."


def _run(
    uow: UnitOfWork, known: Mapping[int, str], command: Command, *, issue: int, user: str,
    now: datetime, link_confirm_threshold: int,
) -> tuple[str, bool]:  # fmt: skip
    """Apply the command; return its reply and whether it changed links or wrong marks."""
    if isinstance(command, StatusCommand):
        return _status(uow, known, issue), False
    if isinstance(command, LinkCommand):
        return _link(
            uow, known, command, issue=issue, user=user, now=now,
            confirm_threshold=link_confirm_threshold,
        )  # fmt: skip
    if isinstance(command, UnlinkCommand):
        gone = links.unlink(uow, target=command.pattern)
        if gone is None:
            return f"no link `{command.pattern}` found; nothing changed.", False
        return f"unlinked {gone.kind} `{gone.pattern}` (it pointed to #{gone.issue}).", True
    try:
        run_id = parse_run_id(command.run_id)
    except WebhookError as exc:
        return exc.message, False
    wrong = links.record_wrong_match(
        uow, run_id=run_id, nodeid=command.nodeid, reported_by=user, now=now
    )
    rule = f"rule `{wrong.rule}`" if wrong.rule else "no rule"
    verdict = "recorded" if wrong.created else "was already recorded"
    return f"wrong match of `{wrong.nodeid}` in run {run_id} ({rule}) {verdict}.", wrong.created
