"""A run's verdict as GitHub shows it on the tested commit: a check run or a commit status."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.gate import GateStatus, JudgedFailure, RunVerdict, SuspectRange
from bot.core.intents import SetCommitVerdict
from bot.core.weekly import code

Mode = Literal["check_run", "status"]
CONCLUSIONS = {
    GateStatus.PASS: "success",
    GateStatus.KNOWN: "neutral",
    GateStatus.BLOCKED: "failure",
}
# A commit status knows no "neutral": known failures do not block, so they show as success.
STATUS_STATES = {"success": "success", "neutral": "success", "failure": "failure"}
DESCRIPTION_MAX = 140  # GitHub shows about this much of a status's description
SUMMARY_MAX = 65_535  # GitHub's cap on a check run's output.summary
TITLE_MAX = 255
NAME_MAX = 100
ROWS_MAX = 50  # deciding failures listed in a summary; the title counts them all
DEFAULT_ENVIRONMENT = "staging"


@dataclass(frozen=True, slots=True)
class VerdictTarget:
    """Where and how a run's verdict is shown: chosen from settings at the composition root.

    public_url is the bot's own web address (the run page links there); web is the repository's
    web address (compare links between suspect commits).
    """

    mode: Mode
    public_url: str | None = None
    web: str | None = None


def check_name(suite: str, environment: str) -> str:
    """Name the check run (or status context) of a suite: "triage-bot / SUITE"."""
    name = f"triage-bot / {suite}"
    if environment != DEFAULT_ENVIRONMENT:
        name += f" ({environment})"
    return name[:NAME_MAX]


def compare_link(web: str | None, suspect: SuspectRange) -> str | None:
    """GitHub's compare view from the last passing to the first failing commit."""
    a, b = suspect.last_passed_commit, suspect.first_failed_commit
    if web is None or not a or not b or a == b:
        return None
    return f"{web}/compare/{a}...{b}"


def _commit(sha: str | None) -> str:
    return code(sha[:10]) if sha else "no commit"


def suspect_text(suspect: SuspectRange, web: str | None) -> str:
    """One line of Markdown: the last run the test passed in, the first it failed in."""
    failed = (
        f"first failed in run #{suspect.first_failed_run} ({_commit(suspect.first_failed_commit)})"
    )
    if suspect.last_passed_run is None:
        return f"{failed}; no passing run in the history looked at"
    passed = (
        f"last passed in run #{suspect.last_passed_run} ({_commit(suspect.last_passed_commit)})"
    )
    link = compare_link(web, suspect)
    return f"{passed}, {failed}" + (f": [compare]({link})" if link else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(
    verdict: RunVerdict,
    suspects: Sequence[SuspectRange],
    *,
    run_id: int,
    web: str | None,
    details_url: str | None,
) -> str:
    """Render the check run's Markdown summary: the deciding failures and where they started."""
    lines = [f"**{verdict.title}**", ""]
    if verdict.known_by_issue:
        issues = ", ".join(f"#{issue} \u00d7{n}" for issue, n in verdict.known_by_issue)
        lines += [f"Known issues: {issues}", ""]
    if verdict.deciding:
        by_test = {s.nodeid: s for s in suspects}
        lines += ["| Test | Classification | Category | Suspect range |", "|---|---|---|---|"]
        lines += [_row(f, by_test.get(f.nodeid), web) for f in verdict.deciding[:ROWS_MAX]]
        if len(verdict.deciding) > ROWS_MAX:
            lines += ["", f"_{len(verdict.deciding) - ROWS_MAX} more deciding failures._"]
        lines.append("")
    where = f"[run #{run_id}]({details_url})" if details_url else f"run #{run_id}"
    lines.append(f"Judged by triage-bot from {where}.")
    text = "\n".join(lines)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 20] + "\n\n_(cut)_"


def _row(failure: JudgedFailure, suspect: SuspectRange | None, web: str | None) -> str:
    where = _cell(suspect_text(suspect, web)) if suspect else "—"
    return (
        f"| {_cell(code(failure.nodeid, 300))} | {failure.classification.value} "
        f"| {failure.category.value} | {where} |"
    )


def description(title: str) -> str:
    """Cut a verdict's title to what a commit status shows."""
    return title if len(title) <= DESCRIPTION_MAX else title[: DESCRIPTION_MAX - 1] + "\u2026"


def run_page(public_url: str | None, run_id: int) -> str | None:
    """The run page on the bot's own site, when its public address is known."""
    return f"{public_url.rstrip('/')}/runs/{run_id}" if public_url else None


def verdict_intent(
    verdict: RunVerdict,
    suspects: Sequence[SuspectRange],
    *,
    run_id: int,
    sha: str,
    name: str,
    target: VerdictTarget,
    revision: int,
) -> SetCommitVerdict:
    """Plan the write that shows the verdict; `revision` counts the verdicts planned for the run."""
    details = run_page(target.public_url, run_id)
    text = summary(verdict, suspects, run_id=run_id, web=target.web, details_url=details)
    title = verdict.title[:TITLE_MAX]
    name_key = hashlib.sha256(name.encode()).hexdigest()[:16]
    return SetCommitVerdict(
        run_id=run_id,
        sha=sha,
        name=name,
        mode=target.mode,
        conclusion=CONCLUSIONS[verdict.status],
        title=title,
        summary=text,
        details_url=details,
        key=f"verdict:{run_id}:{name_key}:{revision}",
    )


def digest(intent: SetCommitVerdict) -> str:
    """Fingerprint what GitHub would show, so an unchanged verdict is not written again."""
    shown = "\x1f".join((intent.conclusion, intent.title, intent.summary, intent.details_url or ""))
    return hashlib.sha256(shown.encode()).hexdigest()
