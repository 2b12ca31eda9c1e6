"""Suggested knowledge rules for unmatched fingerprints, as TOML a person can paste and edit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.core.model import Failure, Phase
from bot.core.signature import mask


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """Unmatched failures of one suite sharing a fingerprint: stored, listed, or to be filed.

    When ingest records a run's hits, count and runs are that run's; read back, the totals.
    """

    fingerprint: str
    suite: str
    first_seen: datetime
    last_seen: datetime
    count: int
    runs: int
    exception: str | None
    example_nodeid: str
    example_message: str
    suggested_rule: str


_MAX_REGEX = 200
# Masked tokens become loose patterns again: the rule must match every member of the cluster.
_TOKENS = {
    "<n>": r"\d+",
    "<hex>": "[0-9a-fA-F]+",
    "<uuid>": "[0-9a-fA-F-]+",
    "<addr>": "0x[0-9a-fA-F]+",
}
_SPECIAL = re.compile(r"([.^$*+?{}\[\]\\|()])")
_TOKEN = re.compile(r"<(?:n|hex|uuid|addr|ts|date|time|tmp|path|ip|host|port|blob)>")


def _escape(text: str) -> str:
    """Escape regex metacharacters only, so the pattern stays readable (spaces unescaped)."""
    return _SPECIAL.sub(r"\\\1", text)


def strip_exception(exception: str | None, message: str) -> str:
    """Drop a leading "Name: " (full or short exception name) that JUnit repeats in messages."""
    if exception:
        for name in (exception, exception.rpartition(".")[2]):
            if message.startswith(name + ":"):
                return message[len(name) + 1 :].strip()
    return message


def describe(exception: str | None, message: str) -> str:
    """Join exception and message for display, without saying the exception twice."""
    return ": ".join(p for p in (exception, strip_exception(exception, message)) if p)


def _message_regex(failure: Failure) -> str:
    line = next((ln.strip() for ln in failure.message.splitlines() if ln.strip()), "")
    line = strip_exception(failure.exception, line)
    parts: list[str] = []
    masked = mask(line)[:_MAX_REGEX]
    last = 0
    for found in _TOKEN.finditer(masked):
        parts.append(_escape(masked[last : found.start()]))
        parts.append(_TOKENS.get(found.group(), ".+?"))
        last = found.end()
    parts.append(_escape(masked[last:]))
    return "".join(parts).strip()


def _literal(text: str) -> str:
    """Quote as a TOML literal string when possible, else a basic string."""
    if "'" not in text and "\n" not in text:
        return f"'{text}'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def suggest_rule(failure: Failure, fingerprint: str) -> str:
    """Write a [[rules]] block matching failures like this one (exception, phase, message)."""
    lines = ["[[rules]]", f'id = "fp-{fingerprint[:12]}"']
    if failure.exception:
        lines.append(f"exception = {_literal(failure.exception)}")
    if failure.phase is not Phase.CALL:
        lines.append(f"phase = {_literal(failure.phase.value)}")
    regex = _message_regex(failure)
    if regex:
        lines.append(f"message = {_literal(regex)}")
    if not failure.exception and not regex:
        lines.append(f"nodeid = {_literal(failure.nodeid)}")
    return "\n".join(lines) + "\n"
