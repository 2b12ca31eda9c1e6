"""The cluster page: examples, the suggested rule as a whole knowledge file, and what it matches."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.core.clusters import ClusterSummary, describe
from bot.core.errors import KnowledgeError, TriageError
from bot.core.knowledge import parse_knowledge
from bot.core.redact import redact
from bot.ports.store import FailureRecord
from bot.services.backtest import to_failure
from bot.services.pages import PagesUow

EXAMPLES = 10
REPLAY = 5000  # newest stored failures the suggested rule is tried on: bounded work per page
MATCH_EXAMPLES = 10
PLACEHOLDER = 1  # issue number of a file whose cluster has no GitHub issue yet
CATEGORIES = ("infrastructure", "product")


@dataclass(frozen=True, slots=True)
class RuleReplay:
    """What the suggested rule matches among the newest stored failures."""

    tried: int
    matched: int
    fingerprints: int
    already_known: int  # of the matched, failures that another known issue matches today
    examples: list[FailureRecord]
    problem: str | None = None  # the knowledge base's complaint if the file does not load


@dataclass(frozen=True, slots=True)
class ClusterPageView:
    cluster: ClusterSummary
    examples: list[FailureRecord]
    issue: int | None  # the issue the bot opened for it
    file_name: str
    knowledge_file: str
    replay: RuleReplay


def knowledge_file(cluster: ClusterSummary, *, number: int, category: str) -> str:
    """Write a complete knowledge file around the cluster's suggested [[rules]] block."""
    title = redact(describe(cluster.exception, cluster.example_message))[:120]
    title = title or cluster.example_nodeid
    head = [
        f"# Suggested from the cluster {cluster.fingerprint}: {cluster.count} failures in "
        f"{cluster.runs} runs, {cluster.first_seen:%Y-%m-%d} to {cluster.last_seen:%Y-%m-%d}.",
    ]
    if number == PLACEHOLDER:
        head.append(
            f"# Open a GitHub issue, then replace {PLACEHOLDER} with its number here and in the "
            "file name."
        )
    head += [
        f"issue = {number}",
        f"title = {json.dumps(title, ensure_ascii=False)}",
        f'category = "{category}"',
        "",
    ]
    return "\n".join(head) + "\n" + cluster.suggested_rule.rstrip("\n") + "\n"


def replay_rule(uow: PagesUow, *, file_name: str, text: str, issue: int) -> RuleReplay:
    """Match the newest stored failures against a knowledge base made of this one file."""
    try:
        kb = parse_knowledge({file_name: text})
    except KnowledgeError as exc:
        return RuleReplay(0, 0, 0, 0, [], problem=exc.message)
    records = uow.pages.newest_failures(limit=REPLAY)
    found = kb.match_many([to_failure(r) for r in records])
    hits = [r for r, m in zip(records, found, strict=True) if m is not None and m.issue == issue]
    return RuleReplay(
        tried=len(records),
        matched=len(hits),
        fingerprints=len({r.fingerprint for r in hits}),
        already_known=sum(1 for r in hits if r.known_issue is not None),
        examples=hits[:MATCH_EXAMPLES],
    )


def cluster_page(uow: PagesUow, *, fingerprint: str) -> ClusterPageView:
    """Gather a cluster; TriageError("not_found") when no cluster has this fingerprint."""
    cluster = uow.pages.cluster(fingerprint=fingerprint)
    if cluster is None:
        raise TriageError("not_found", f"no cluster with fingerprint {fingerprint!r}")
    examples = uow.pages.with_fingerprint(fingerprint=fingerprint, limit=EXAMPLES)
    filed = uow.pages.filed_issue(fingerprint=fingerprint)
    number = filed or PLACEHOLDER
    category = next((e.category for e in examples if e.category in CATEGORIES), "product")
    file_name = f"issues/{number}-cluster-{fingerprint[:12]}.toml"
    text = knowledge_file(cluster, number=number, category=category)
    return ClusterPageView(
        cluster=cluster,
        examples=examples,
        issue=filed,
        file_name=file_name,
        knowledge_file=text,
        replay=replay_rule(uow, file_name=file_name, text=text, issue=number),
    )
