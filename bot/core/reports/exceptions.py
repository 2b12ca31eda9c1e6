"""Find the raised exception, its chain and its message in pytest's failure text (all formats)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# pytest (and Python's own traceback module) separate chained exceptions with these lines.
CHAIN_SEPARATORS = frozenset(
    {
        "The above exception was the direct cause of the following exception:",
        "During handling of the above exception, another exception occurred:",
    }
)
# "redis.exceptions.ConnectionError: ..." or a bare "KeyboardInterrupt".
_TYPE_LINE = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::\s|:$|$)")
# The last line of a long-style entry: "test_mod.py:16: AssertionError".
_FILE_LOCATION = re.compile(r"^\S.*:\d+: ([A-Za-z_]\w*)$")
_E_LINE = re.compile(r"^E(?: |$)")
_NATIVE_HEADER = "Traceback (most recent call last):"


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a failure's text says was raised."""

    exception: str | None
    chain: tuple[str, ...]
    message: str


def _split_chain(text: str) -> list[list[str]]:
    """Split the text into one list of lines per exception of the chain."""
    lines = text.splitlines()
    # Most failures have no chain: one substring search instead of stripping every line.
    if not any(separator in text for separator in CHAIN_SEPARATORS):
        return [lines]
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip() in CHAIN_SEPARATORS:
            blocks.append([])
        else:
            blocks[-1].append(line)
    return blocks


def _last_e_run(lines: list[str]) -> list[str]:
    """Return the last run of pytest's "E   " lines, without the "E"."""
    end = len(lines)
    while end and not _E_LINE.match(lines[end - 1]):
        end -= 1
    start = end
    while start and _E_LINE.match(lines[start - 1]):
        start -= 1
    return [line[1:] for line in lines[start:end]]


def _dedent(lines: list[str]) -> str:
    """Remove the common indentation and surrounding blank lines."""
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:].rstrip() for line in lines).strip("\n")


def _type_of(message: str) -> str | None:
    """Read the exception type from a message's first line; "assert ..." is AssertionError."""
    first = message.split("\n", 1)[0].strip()
    if first.startswith("assert ") or first == "assert":
        return "AssertionError"
    match = _TYPE_LINE.match(first)
    return match.group(1) if match else None


def _located_type(lines: list[str]) -> str | None:
    """Return the type named by the block's final "path:line: Type" line, if any."""
    last = next((line for line in reversed(lines) if line.strip()), "")
    match = _FILE_LOCATION.match(last)
    return match.group(1) if match else None


def _native(lines: list[str]) -> str:
    """Return the exception lines of a plain Python traceback (pytest's --tb=native)."""
    headers = [i for i, line in enumerate(lines) if line.startswith(_NATIVE_HEADER)]
    if not headers:
        return ""
    frames = [i for i in range(headers[-1], len(lines)) if lines[i][:1].isspace()]
    return "\n".join(lines[max([headers[-1], *frames]) + 1 :]).strip()


def _block(lines: list[str]) -> tuple[str | None, str]:
    """Return the exception type and message of one block of the chain."""
    run = _last_e_run(lines)
    if run:
        message = _dedent(run)
        # "E   fixture 'x' not found" names no type; the "path:line: Type" line may.
        return _type_of(message) or _located_type(lines), message
    message = _native(lines)
    return (_type_of(message) if message else None), message


def _last_line(text: str) -> str:
    """Return the last non-blank line, stripped (xdist puts the worker's platform first)."""
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def extract(text: str, crash_message: str = "") -> Extracted:
    """Read the raised type, the chain (causes first) and the message from a failure's text.

    crash_message (pytest's reprcrash message, or JUnit's message attribute) is used only
    when the text itself names nothing, e.g. with --tb=line or --tb=no.
    """
    found = [_block(lines) for lines in _split_chain(text)]
    chain = tuple(kind for kind, _ in found if kind)
    exception, message = found[-1]
    if exception is None and not message and crash_message:
        message = crash_message.strip()
        exception = _type_of(message)
        chain = (*chain, exception) if exception else chain
    if not message:
        message = _last_line(text)
    return Extracted(exception, chain, message)
