"""Failure signatures: failure text with volatile parts masked, and its stable fingerprint."""

from __future__ import annotations

import hashlib
import re

from bot.core.model import Failure

# Bump when mask() or signature() change: every fingerprint changes with it, so stored
# clusters can be recomputed instead of silently splitting.
SIGNATURE_VERSION = 1

MAX_LINES = 5
MAX_CHARS = 1000
_TEXT_LINES = 3

# Order matters: each pattern sees the output of the ones before it, so specific shapes
# (timestamps, UUIDs, paths) are masked before the generic digit and hex runs.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+-]\d{2}:?\d{2}\b)?"
        ),
        "<ts>",
    ),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "<date>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>"),
    # Temporary directories first, whole: their last component is random too.
    (
        re.compile(
            r"(?:/(?:private/)?(?:tmp|var/tmp|var/folders)(?:/[^\s'\":,()\[\]]*)?"
            r"|[A-Za-z]:\\[^\s'\"]*\\Temp(?:\\[^\s'\":,()]*)?"
            r"|\S*pytest-of-[^\s'\"]*)"
        ),
        "<tmp>",
    ),
    # Other absolute paths keep their file name, which says something about the failure.
    (re.compile(r"(?<![\w.<>])(?:/[\w.@+~-]+)+/(?=[\w.@+~-]+)"), "<path>/"),
    (re.compile(r"\b[A-Za-z]:\\(?:[^\s'\"\\]+\\)+(?=[^\s'\"\\]+)"), "<path>\\\\"),
    (re.compile(r"\[[0-9a-fA-F:]*:[0-9a-fA-F:]*\](?::\d{1,5})?"), "<ip>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b"), "<ip>"),
    (re.compile(r"(?<![\w:])::1\b"), "<ip>"),
    # Dotted host names with a port; a bare "redis:6379" keeps its name, the port is a digit run.
    (re.compile(r"\b(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d{1,5}\b"), "<host>:<port>"),
    # Long base64-ish runs (tokens, keys): mixed case and digits, or URL-safe alphabet.
    (
        re.compile(
            r"(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*[A-Z])(?=[A-Za-z0-9+/_-]*\d)"
            r"[A-Za-z0-9+/_-]{20,}={0,2}"
        ),
        "<blob>",
    ),
    (re.compile(r"\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\d+"), "<n>"),
)


def mask(text: str) -> str:
    """Replace the volatile parts of a text (numbers, ids, addresses, paths, times) by tokens."""
    for pattern, token in _MASKS:
        text = pattern.sub(token, text)
    return text


def strip_type(message: str, exception: str | None) -> str:
    """Drop a leading "Type: " (qualified or short) that repeats the exception's type."""
    if not exception:
        return message
    for name in (exception, exception.rpartition(".")[2]):
        if message.startswith(name + ":"):
            return message[len(name) + 1 :].lstrip()
        if message == name:
            return ""
    return message


def _text_lines(text: str) -> list[str]:
    """Pick the error lines pytest marks with "E", else the last non-blank lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    marked = [line[1:].strip() for line in lines if line.startswith("E ")]
    return marked[:_TEXT_LINES] if marked else lines[-_TEXT_LINES:]


def signature(failure: Failure) -> str:
    """Build the normalised "ExceptionType: masked message" of a failure."""
    exception = failure.exception or ""
    message = strip_type(failure.message.strip(), exception)
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        lines = _text_lines(failure.text)
    body = mask("\n".join(lines[:MAX_LINES]))[:MAX_CHARS]
    if not exception:
        return body
    return f"{exception}: {body}" if body else exception


def fingerprint(failure: Failure) -> str:
    """Hash the signature into 16 hex characters, stable across runs and machines."""
    data = f"v{SIGNATURE_VERSION}\0{signature(failure)}".encode()
    return hashlib.sha256(data).hexdigest()[:16]
