"""`/triage` commands registered per name, and issue-state events, applied through corrections.

The parser in bot.core.webhook reads a comment into a command; its `name` finds the handler
here. A handler applies the command in the caller's transaction and returns its reply and
whether it changed links or wrong marks; a command registered with `rejudge` then re-judges
the stored failures it touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from bot.services import corrections, rejudge

# `/triage link GLOB` past this many stored failures needs `--confirm` (a setting).
DEFAULT_LINK_CONFIRM_THRESHOLD = 200


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Where a command runs: the delivery's unit of work, the issue, who asked, when."""

    uow: UnitOfWork
    known: Mapping[int, str]
    issue: int
    user: str
    now: datetime
    link_confirm_threshold: int = DEFAULT_LINK_CONFIRM_THRESHOLD


Reply = tuple[str, bool]  # the reply text, and whether links or wrong marks changed
Rejudge = Callable[[Any, CommandContext, KnowledgeBase, FlakyPolicy | None], str]


@dataclass(frozen=True, slots=True)
class CommandHandler:
    """One registered command: how to apply it, and how to re-judge what it changed."""

    run: Callable[[Any, CommandContext], Reply]
    rejudge: Rejudge | None


class CommandRegistry:
    """Command handlers per name, like the webhook handlers per (event, action)."""

    def __init__(self) -> None:
        self._handlers: dict[str, CommandHandler] = {}

    def on(
        self, name: str, *, rejudge: Rejudge | None = None
    ) -> Callable[[Callable[[Any, CommandContext], Reply]], Any]:
        """Register the decorated function as the handler of `/triage NAME`."""

        def register(run: Callable[[Any, CommandContext], Reply]) -> Any:
            self._handlers[name] = CommandHandler(run, rejudge)
            return run

        return register

    def find(self, name: str) -> CommandHandler:
        """Return the handler of a parsed command (the parser only makes registered ones)."""
        return self._handlers[name]

    def names(self) -> set[str]:
        """The names some handler takes."""
        return set(self._handlers)


commands = CommandRegistry()


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
    corrections.set_issue_state(
        uow, number=issue, state=state, title=known[issue], state_reason=reason,
        updated_at=updated_at,
    )  # fmt: skip
    return True


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
    context = CommandContext(uow, known, issue, user, now, link_confirm_threshold)
    handler = commands.find(command.name)
    text, changed = handler.run(command, context)
    # Only a command that changed a link or a wrong mark moves stored judgements: a refused
    # link must not walk every failure its glob names.
    if kb is None or not changed or handler.rejudge is None:
        return text
    return text + handler.rejudge(command, context, kb, policy)


def _detail(command: Command, user: str) -> str:
    return f"/triage {command.name} by @{user}"


def _said(result: rejudge.RejudgeResult) -> str:
    n = len(result.changes)
    return f" Re-judged {n} stored failure{'' if n == 1 else 's'}."


def _rejudge_target(
    command: LinkCommand | UnlinkCommand, ctx: CommandContext, kb: KnowledgeBase,
    policy: FlakyPolicy | None,
) -> str:  # fmt: skip
    kind, pattern = corrections.parse_target(command.pattern)
    reason = rejudge.LINK if isinstance(command, LinkCommand) else rejudge.UNLINK
    result = rejudge.rejudge_target(
        ctx.uow, kb, kind=kind, pattern=pattern, reason=reason,
        detail=f"{_detail(command, ctx.user)}: {pattern}", now=ctx.now, policy=policy,
    )  # fmt: skip
    return _said(result)


def _rejudge_failure(
    command: WrongCommand, ctx: CommandContext, kb: KnowledgeBase, policy: FlakyPolicy | None
) -> str:
    try:
        run_id = parse_run_id(command.run_id)
    except WebhookError:
        return ""  # the reply already says it is not a run id
    result = rejudge.rejudge_failure(
        ctx.uow, kb, run_id=run_id, nodeid=command.nodeid,
        reason=rejudge.WRONG, detail=_detail(command, ctx.user), now=ctx.now, policy=policy,
    )  # fmt: skip
    return _said(result)


@commands.on("status")
def _status(command: StatusCommand, ctx: CommandContext) -> Reply:
    uow, known, issue = ctx.uow, ctx.known, ctx.issue
    if issue not in known:
        return f"#{issue} is not in the knowledge base, so no failures are matched to it.", False
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
    return "\n".join(lines), False


@commands.on("link", rejudge=_rejudge_target)
def _link(command: LinkCommand, ctx: CommandContext) -> Reply:
    issue, threshold = ctx.issue, ctx.link_confirm_threshold
    if issue not in ctx.known:
        return f"#{issue} is not a known issue; add it to knowledge/ before linking to it.", False
    kind, pattern = corrections.parse_target(command.pattern)
    if kind == "glob" and not command.confirm:
        count = ctx.uow.failures.count_matching(glob=pattern)
        if count > threshold:
            return (
                f"`{pattern}` matches {count} stored failures, more than {threshold}: "
                "nothing linked. Narrow the "
                f"glob, or repeat with `--confirm` to link them all to #{issue}."
            ), False
    done = corrections.link(ctx.uow, issue=issue, target=command.pattern, by=ctx.user, now=ctx.now)
    verb = "linked" if done.created else "re-pointed"
    return f"{verb} {done.kind} `{done.pattern}` to #{issue}.", True


@commands.on("unlink", rejudge=_rejudge_target)
def _unlink(command: UnlinkCommand, ctx: CommandContext) -> Reply:
    gone = corrections.unlink(ctx.uow, target=command.pattern)
    if gone is None:
        return f"no link `{command.pattern}` found; nothing changed.", False
    return f"unlinked {gone.kind} `{gone.pattern}` (it pointed to #{gone.issue}).", True


@commands.on("wrong", rejudge=_rejudge_failure)
def _wrong(command: WrongCommand, ctx: CommandContext) -> Reply:
    try:
        run_id = parse_run_id(command.run_id)
    except WebhookError as exc:
        return exc.message, False
    wrong = corrections.record_wrong_match(
        ctx.uow, run_id=run_id, nodeid=command.nodeid, reported_by=ctx.user, now=ctx.now
    )
    rule = f"rule `{wrong.rule}`" if wrong.rule else "no rule"
    verdict = "recorded" if wrong.created else "was already recorded"
    return f"wrong match of `{wrong.nodeid}` in run {run_id} ({rule}) {verdict}.", wrong.created
