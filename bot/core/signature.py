"""Failure signatures: failure text with volatile parts masked, and its stable fingerprint."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

import re2

from bot.core.model import Failure

# Bump when mask() or signature() change: every fingerprint changes with it, so stored
# clusters can be recomputed instead of silently splitting.
SIGNATURE_VERSION = 1

MAX_LINES = 5
MAX_CHARS = 1000
_TEXT_LINES = 3
# Caps on what one failure costs, whatever its size: lines are taken from at most EXAMINE
# characters of a message or text, and at most SCAN characters of them are masked. A signature
# keeps 1,000 characters, so only a failure whose first lines run past SCAN characters can sign
# differently than it would uncut.
EXAMINE = 256 * 1024
SCAN = 16 * 1024

# Python's own \s for str patterns (str.isspace), spelled out for RE2, whose \s is ASCII only;
# tests/core/test_signature.py checks it against every code point.
_SPACE = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _re2(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


# Temporary directories, whole (their last component is random too). The third shape starts
# with "\S*", which Python's re retries at every position of a long token (quadratic); RE2
# finds the same leftmost-first matches in one linear pass.
_TMP = _re2(
    rf"(?:/(?:private/)?(?:tmp|var/tmp|var/folders)(?:/[^{_SPACE}'\":,()\[\]]*)?"
    rf"|[A-Za-z]:\\[^{_SPACE}'\"]*\\Temp(?:\\[^{_SPACE}'\":,()]*)?"
    rf"|[^{_SPACE}]*pytest-of-[^{_SPACE}'\"]*)"
)
# A dotted host name and its port. The chain of labels is atomic: when no port follows, a
# later start inside the chain would end at the same place and fail too, so the chain is taken
# whole and kept. A single label without a hyphen has no start inside it and simply fails.
_HOST = re.compile(
    r"\b(?:(?P<local>localhost:\d{1,5}\b)"
    r"|(?=[A-Za-z0-9-])(?P<chain>(?>[A-Za-z0-9]*(?P<hyphen>-)?[A-Za-z0-9-]*"
    r"(?P<dot>\.[A-Za-z0-9-]+)*))"
    r"(?(dot)(?P<port>:\d{1,5}\b)?"
    r"|(?(hyphen)(?:(?<=-localhost)(?P<lport>:\d{1,5}\b))?|(?!))))"
)
# A base64-ish run is a blob when it mixes lower case, upper case and digits; the run is taken
# whole and checked once (lookaheads at every position of it were quadratic).
_BLOB = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
_LOWER, _UPPER, _DIGIT = re.compile("[a-z]"), re.compile("[A-Z]"), re.compile("[0-9]")
_ANY_DIGIT = re.compile(r"\d")


def _host(found: re.Match[str]) -> str:
    if found["local"] is not None or found["port"] is not None:
        return "<host>:<port>"
    chain: str = found["chain"]
    if found["lport"] is None:
        return chain
    # "x-localhost:80": one label has no port, but the "localhost" after its hyphen (a word
    # boundary) does, as Python's re found when it retried every position of the label.
    return chain[:-9] + "<host>:<port>"


def _blob(found: re.Match[str]) -> str:
    run = found.group()
    body = run.rstrip("=")
    # The digit may also be a non-ASCII one (\d) right after the run, as the old lookahead
    # "[A-Za-z0-9+/_-]*\d" allowed.
    digit = _DIGIT.search(body) or _ANY_DIGIT.match(found.string, found.start() + len(body))
    if digit and _LOWER.search(body) and _UPPER.search(body):
        return "<blob>"
    return run


def _tmp(text: str) -> str:
    # RE2 takes UTF-8: a lone surrogate (valid in a str) stands in as another non-space
    # character while matching, and the spans are cut from the text itself.
    probe = _SURROGATE.sub("\ufffd", text)
    parts: list[str] = []
    last = 0
    for found in _TMP.finditer(probe):
        parts += (text[last : found.start()], "<tmp>")
        last = found.end()
    parts.append(text[last:])
    return "".join(parts)


Mask = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]
# Order matters: each pattern sees the output of the ones before it, so specific shapes
# (timestamps, UUIDs, paths) are masked before the generic digit and hex runs. Every pattern
# does linear work: no quantified run is retried from each of its positions (see
# docs/benchmarks.md, "signatures").
_BEFORE_TMP: tuple[Mask, ...] = (
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
)
_AFTER_TMP: tuple[Mask, ...] = (
    # Other absolute paths keep their file name, which says something about the failure.
    (re.compile(r"(?<![\w.<>])(?:/[\w.@+~-]+)+/(?=[\w.@+~-]+)"), "<path>/"),
    (re.compile(r"\b[A-Za-z]:\\(?:[^\s'\"\\]+\\)+(?=[^\s'\"\\]+)"), "<path>\\\\"),
    (re.compile(r"\[[0-9a-fA-F]*:[0-9a-fA-F:]*+\](?::\d{1,5})?"), "<ip>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b"), "<ip>"),
    (re.compile(r"(?<![\w:])::1\b"), "<ip>"),
    # Dotted host names with a port; a bare "redis:6379" keeps its name, the port is a digit run.
    (_HOST, _host),
    # Long base64-ish runs (tokens, keys): mixed case and digits, or URL-safe alphabet.
    (_BLOB, _blob),
    (re.compile(r"\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\d+"), "<n>"),
)
PASSES = len(_BEFORE_TMP) + 1 + len(_AFTER_TMP)


class Meter:
    """Counts the work of masking: passes over a text and the characters each pass reads."""

    def __init__(self) -> None:
        self.passes = 0
        self.chars = 0

    def add(self, text: str) -> None:
        self.passes += 1
        self.chars += len(text)


def mask(text: str, meter: Meter | None = None) -> str:
    """Replace the volatile parts of a text (numbers, ids, addresses, paths, times) by tokens.

    At most SCAN characters are read; each pass is linear in them.
    """
    text = text[:SCAN]
    for pattern, token in _BEFORE_TMP:
        if meter is not None:
            meter.add(text)
        text = pattern.sub(token, text)
    if meter is not None:
        meter.add(text)
    text = _tmp(text)
    for pattern, token in _AFTER_TMP:
        if meter is not None:
            meter.add(text)
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


def _nonblank(lines: Iterable[str]) -> Iterator[str]:
    return (stripped for stripped in (line.strip() for line in lines) if stripped)


def _text_lines(text: str) -> list[str]:
    """Pick the error lines pytest marks with "E", else the last non-blank lines."""
    head = _nonblank(text[:EXAMINE].splitlines())
    marked = list(islice((line[1:].strip() for line in head if line.startswith("E ")), _TEXT_LINES))
    if marked:
        return marked
    last = list(islice(_nonblank(reversed(text[-EXAMINE:].splitlines())), _TEXT_LINES))
    return last[::-1]


def signature(failure: Failure, meter: Meter | None = None) -> str:
    """Build the normalised "ExceptionType: masked message" of a failure."""
    exception = failure.exception or ""
    message = strip_type(failure.message[:EXAMINE].strip(), exception)
    lines = list(islice(_nonblank(message.splitlines()), MAX_LINES))
    if not lines:
        lines = _text_lines(failure.text)
    body = mask("\n".join(lines), meter)[:MAX_CHARS]
    if not exception:
        return body
    return f"{exception}: {body}" if body else exception


def fingerprint(failure: Failure) -> str:
    """Hash the signature into 16 hex characters, stable across runs and machines."""
    data = f"v{SIGNATURE_VERSION}\0{signature(failure)}".encode()
    return hashlib.sha256(data).hexdigest()[:16]
