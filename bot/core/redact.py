"""Mask secrets (URL credentials, GitHub tokens, password=..., Bearer ...) in free text.

The patterns run on RE2, which matches in time linear in the text whatever it holds: Python's
`re` retried `scheme://` at every letter of a long word, quadratic on a 30,000-character token.
RE2 has no look-behind, so "not preceded by a letter or digit" is a group `(^|[^...])` that is
put back as it was.
"""

from __future__ import annotations

from dataclasses import replace

import re2

from bot.core.model import Failure, Outcome, TestResult, TestRun

MASK = "***"


def _compile(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


_USERINFO = _compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@:]*(?::[^\s/@]*)?@")
_GITHUB_TOKEN = _compile(r"(^|[^A-Za-z0-9])(?:gh[pousr]_\w+|github_pat_\w+)")
# A bearer value is masked when it looks like one: 8 characters or more, or holding a digit or
# token punctuation. "invalid bearer token" is an error message (a shipped rule matches it).
_BEARER = _compile(r"(?i)\b(bearer\s+)(?:[\w\-.~+/]{8,}|[\w\-.~+/]*[0-9\-.~+/=][\w\-.~+/]*)=*")
_KEY_VALUE = _compile(
    r"(?i)(^|[^a-z0-9])(password|passwd|pwd|secret|api_key|apikey|authorization)"
    r"""(["']?\s*[=:]\s*["']?)(?:bearer\s+|basic\s+|token\s+)?[^\s"',;&)}\]]+"""
)
# "token" is also a parser's word ("unexpected token: EOF"): only a token-like value is masked.
_TOKEN_VALUE = _compile(
    r"""(?i)(^|[^a-z0-9])(token)(["']?\s*[=:]\s*["']?)[A-Za-z0-9_\-.~+/]{8,}=*"""
)
# Every secret pattern needs one of these characters; text without them is returned as it is.
_HINTS = ("@", "=", ":", "gh", "github_pat_", "earer")


def redact(text: str) -> str:
    """Return `text` with credentials replaced by ***; other text is left as it is."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _GITHUB_TOKEN.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    text = _KEY_VALUE.sub(rf"\1\2\3{MASK}", text)
    masked: str = _TOKEN_VALUE.sub(rf"\1\2\3{MASK}", text)
    return masked


def redact_optional(text: str | None) -> str | None:
    """redact() that passes None through (optional run fields)."""
    return None if text is None else redact(text)


def redact_failure(failure: Failure) -> Failure:
    """The failure with its node id, texts and keywords masked (the exception is a type name)."""
    return replace(
        failure,
        nodeid=redact(failure.nodeid),
        chain=tuple(redact(c) for c in failure.chain),
        message=redact(failure.message),
        text=redact(failure.text),
        keywords=frozenset(redact(k) for k in failure.keywords),
    )


def _redact_test(test: TestResult) -> TestResult:
    # Only a flaky pass becomes a stored row with its keywords; other keywords are never kept,
    # and a run may hold 100,000 tests.
    if test.outcome is Outcome.FLAKY:
        keywords = frozenset(redact(k) for k in test.keywords)
        return replace(test, nodeid=redact(test.nodeid), keywords=keywords)
    return replace(test, nodeid=redact(test.nodeid))


def redact_run(run: TestRun) -> TestRun:
    """The run as it may be stored and shown: every free text an uploader controls masked.

    Only credentials change, so the fingerprint of an ordinary failure stays what it was.
    """
    tests = tuple(_redact_test(t) for t in run.tests)
    return replace(run, tests=tests, failures=tuple(redact_failure(f) for f in run.failures))
