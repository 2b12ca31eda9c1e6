"""Mask secrets (URL credentials, GitHub tokens, password=..., Bearer ...) in free text."""

from __future__ import annotations

import re

MASK = "***"

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@:]*(?::[^\s/@]*)?@")
_GITHUB_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_\w+|github_pat_\w+)")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[\w\-.~+/]+=*")
_KEY_VALUE = re.compile(
    r"(?i)(?<![a-z0-9])(password|passwd|pwd|secret|api_key|apikey|authorization)"
    r"""(["']?\s*[=:]\s*["']?)(?:bearer\s+|basic\s+|token\s+)?[^\s"',;&)}\]]+"""
)
# "token" is also a parser's word ("unexpected token: EOF"): only a token-like value is masked.
_TOKEN_VALUE = re.compile(
    r"""(?i)(?<![a-z0-9])(token)(["']?\s*[=:]\s*["']?)[A-Za-z0-9_\-.~+/]{8,}=*"""
)


def redact(text: str) -> str:
    """Return `text` with credentials replaced by ***; other text is left as it is."""
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _GITHUB_TOKEN.sub(MASK, text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    text = _KEY_VALUE.sub(rf"\1\2{MASK}", text)
    return _TOKEN_VALUE.sub(rf"\1\2{MASK}", text)
