"""The masking patterns of signature version 1 as first written (Python re, lookaheads).

They are quadratic on long tokens, so tests run them only on short texts, as the reference the
linear patterns in bot/core/signature.py must agree with exactly.
"""

from __future__ import annotations

import re

OLD_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
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


def reference_mask(text: str) -> str:
    """Mask a text the way signature version 1 first did."""
    for pattern, token in OLD_MASKS:
        text = pattern.sub(token, text)
    return text
